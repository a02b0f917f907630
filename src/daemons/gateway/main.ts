import {setMaxListeners} from 'node:events'
import {existsSync, mkdirSync, readFileSync, unlinkSync} from 'node:fs'
import {join} from 'node:path'
import type {z} from 'zod'
import type {DaemonContext, DaemonDefinition, ReloadResult} from '../../lib/daemon/runtime.js'
import {OsmodaError} from '../../lib/errors.js'
import {createIdGenerator} from '../../lib/ids.js'
import {createTokenAuth} from '../../lib/rpc/auth.js'
import {createClient} from '../../lib/rpc/client.js'
import {createRpcServer} from '../../lib/rpc/server.js'
import {resolveToken} from '../../lib/tokens.js'
import {agentdApi} from '../agentd/api.js'
import {openAgentsStore} from './agents-file.js'
import {gatewayApi, type GatewayHealth} from './api.js'
import {createChatEngine} from './chat-service.js'
import {GatewayConfig} from './config.js'
import {CredentialInput, ensureCredstoreKey, openCredentialStore, readCredstoreKey, resolveCredstoreKeyFile} from './credentials.js'
import {createDiagnostics} from './diagnostics.js'
import {createEventBus} from './events.js'
import type {GatewayServices} from './extension.js'
import {GATEWAY_EXTENSIONS} from './extensions/index.js'
import {compileExtensions, createFront} from './http.js'
import {startLedgerRelay} from './ledger-relay.js'
import {livenessFromMonitor, publishWedgeEvent} from './liveness.js'
import {osmodaBin} from './run-setup.js'
import {WedgeMonitor} from './wedge.js'
import {runProcess} from '../../lib/exec/run.js'
import {pathsEnv} from '../../lib/paths.js'
import {createRequestStore} from './request-store.js'
import {gatewayHandlers} from './routes.js'
import type {RuntimeDriver, RuntimeName} from './runtime/types.js'
import {createGatewayService} from './service.js'
import {SessionStore} from './sessions.js'
import {createRuntimeDrivers} from './runtime/drivers.js'
import {openGatewayDb} from './store.js'
import {createChatSockets} from './ws-chat.js'

const PRUNE_EVERY_MS = 10 * 60_000

/** `<state>/…` config paths made absolute. */
function statePath(ctx: DaemonContext, configured: string): string {
  return configured.startsWith('<state>/') ? join(ctx.paths.stateDir, configured.slice('<state>/'.length)) : configured
}

/** The product's documented env names for the run caps (SPEC §1.13), older unprefixed names as aliases. */
export function applyCapEnv(config: GatewayConfig, env: Record<string, string | undefined>): GatewayConfig {
  const pick = (...names: string[]) => names.map((n) => env[n]).find((v) => v !== undefined && /^[1-9][0-9]{2,9}$/.test(v))
  const watchdog = pick('OSMODA_CHAT_WATCHDOG_MS', 'CHAT_WATCHDOG_MS')
  const first = pick('OSMODA_FIRST_SIGNAL_TIMEOUT_MS', 'FIRST_SIGNAL_TIMEOUT_MS')
  const cap = pick('OSMODA_CHAT_HARD_CAP_MS')
  return {...config, ...(watchdog ? {chatWatchdogMs: Number(watchdog)} : {}), ...(first ? {firstSignalTimeoutMs: Number(first)} : {}), ...(cap ? {chatHardCapMs: Number(cap)} : {})}
}

/** Imports `<state>/gateway/bootstrap-credentials.json` (from the installer) and deletes it. */
function importBootstrap(file: string, add: (input: z.output<typeof CredentialInput>) => void): number {
  if (!existsSync(file)) return 0
  const value = JSON.parse(readFileSync(file, 'utf8')) as unknown
  const list = Array.isArray(value) ? value : ((value as {credentials?: unknown[]}).credentials ?? [])
  let imported = 0
  for (const item of list) {
    const parsed = CredentialInput.safeParse(item)
    if (parsed.success) {
      add(parsed.data)
      imported++
    }
  }
  unlinkSync(file)
  return imported
}

async function main(ctx: DaemonContext<GatewayConfig>): Promise<void> {
  const startedAt = Date.now()
  let config = applyCapEnv(ctx.config, process.env)
  const stateDir = ctx.paths.daemonStateDir('gateway')
  mkdirSync(stateDir, {recursive: true, mode: 0o700})
  const newId = createIdGenerator()
  const db = openGatewayDb(ctx.paths)
  const drain = new AbortController()
  // Every open SSE stream listens for the drain.
  setMaxListeners(0, drain.signal)
  try {
    const events = createEventBus(db)
    const diagnostics = createDiagnostics(db, ctx.log.child({component: 'diagnostics'}))
    const requests = createRequestStore(db)
    const auth = createTokenAuth(ctx.paths.tokensDir)

    const encFile = join(stateDir, 'credentials.json.enc')
    const keyFile = resolveCredstoreKeyFile(ctx.paths, config.credstoreKeyFile, process.env)
    let key: Buffer | null = null
    let lockReason: string | undefined
    try {
      if (!config.credstoreKeyFile && !process.env.CREDENTIALS_DIRECTORY) {
        mkdirSync(join(ctx.paths.configDir, 'secrets'), {recursive: true, mode: 0o700})
        ensureCredstoreKey(keyFile, encFile)
      }
      key = readCredstoreKey(keyFile, ctx.paths.stateDir)
      if (!key) lockReason = `the credstore key ${keyFile} is missing`
    } catch (error) {
      lockReason = (error as Error).message
    }
    const credentials = openCredentialStore({file: encFile, key, newId: () => newId('cred'), lockReason})
    if (credentials.locked) diagnostics.record({level: 'error', kind: 'keystore', message: `credentials locked: ${lockReason ?? 'credentials.json.enc cannot be decrypted'}`})
    else {
      const imported = importBootstrap(join(stateDir, 'bootstrap-credentials.json'), (input) => credentials.add(input))
      if (imported) ctx.ledger.append({type: 'credential.added', actor: 'gateway', payload: {imported_count: imported, source: 'bootstrap'}})
    }

    const agents = openAgentsStore({file: statePath(ctx, config.agentsFile), mutable: config.agentsMutable, seed: config.agentsSeed, credentialExists: (id) => credentials.exists(id)})
    const sessions = new SessionStore({
      file: statePath(ctx, config.sessionsFile),
      ttlDays: config.sessionTtlDays,
      onWriteError: (error) => diagnostics.record({level: 'error', kind: 'sessions', message: `sessions.json not written: ${error.message}`}),
    })
    if (sessions.loadProblem) diagnostics.record({level: 'error', kind: 'sessions', message: sessions.loadProblem.message, data: {moved_to: sessions.loadProblem.moved_to}})
    const drivers: Partial<Record<RuntimeName, RuntimeDriver>> = Object.fromEntries(createRuntimeDrivers(config.runtimes))
    // The monitor's hooks reach the chat engine and the service, built just below.
    const wedge: WedgeMonitor = new WedgeMonitor({
      config: {wedgeAfterMs: config.wedgeAfterMs, autoRestart: config.autoRestart},
      emit: (event) => publishWedgeEvent(event, {events, ledger: ctx.ledger, diagnostics}),
      hooks: {
        stopRequest: (_agentId, requestId) => chat.stop(requestId, 'gateway', 'wedge'),
        quarantineSession: (_agentId, sessionId) => sessions.quarantine(sessionId),
        probe: (agentId) => service.probeAgent(agentId),
      },
    })
    const chat = createChatEngine({paths: ctx.paths, config: () => config, agents: () => agents.get(), credentials, drivers, sessions, liveness: livenessFromMonitor(wedge), requests, events, diagnostics, log: ctx.log, newId})
    const checkToolPlane = async (): Promise<string | null> => {
      const bin = osmodaBin()
      const argv = process.env.OSMODA_BIN ? [bin, 'mcp', '--check'] : [process.execPath, bin, 'mcp', '--check']
      const result = await runProcess(argv, {timeoutMs: 20_000, env: {...pathsEnv(ctx.paths), OSMODA_TOKEN_FILE: join(ctx.paths.tokensDir, 'agent')}, maxOutputBytes: 4096})
      return result.exitCode === 0 ? null : `osmoda mcp --check failed (exit ${result.exitCode ?? 'timeout'}): ${(result.stderr.trim().split('\n').at(-1) ?? '').slice(0, 200)}`
    }

    // A kill -9 leaves receipts open: they end as failed, the conversation stays resumable.
    for (const receipt of requests.open()) {
      requests.update(receipt.request_id, {status: 'failed', failure: {code: 'STOPPED', message: 'the gateway restarted during this request'}})
      events.emit({category: 'request', type: 'request.failed', agent_id: receipt.agent_id, request_id: receipt.request_id, data: {failure: {code: 'STOPPED', message: 'the gateway restarted during this request'}}})
    }

    const service = createGatewayService({config: () => config, agents, credentials, chat, requests, events, wedge, diagnostics, drivers, ledger: ctx.ledger, newId, checkToolPlane})
    const sockets = createChatSockets({auth, chat: () => chat, events, log: ctx.log})
    let boundPort = config.port

    const health = async (role: 'operator' | 'agent'): Promise<z.input<typeof GatewayHealth>> => {
      const problems = credentials.locked ? ['credential store locked (gateway.key missing or wrong)'] : []
      const base = {status: problems.length ? ('degraded' as const) : ('ok' as const), daemon: 'gateway', version: ctx.version, pid: process.pid, uptime_secs: Math.round((Date.now() - startedAt) / 1000), ...(problems.length ? {problems} : {})}
      if (role !== 'operator') return base
      const driverRows = await Promise.all((Object.keys(drivers) as RuntimeName[]).map(async (name) => ({name, ...(await service.probeDriver(name))})))
      return {
        ...base,
        drivers: driverRows.map(({name, available, version}) => ({name, available, version})),
        agents: agents.get().agents.map((a) => ({id: a.id, runtime: a.runtime, model: a.model, enabled: a.enabled, agent_wedged: wedge.isWedged(a.id)})),
        credentials_count: credentials.count(),
        sessions: sessions.list().length,
        active_requests: chat.active().length,
        websockets: sockets.count(),
        listen: {address: config.listenAddress, port: boundPort},
      }
    }

    const reload = async (): Promise<ReloadResult> => {
      const next = applyCapEnv(ctx.readConfig(), process.env)
      auth.reload()
      const changed = (Object.keys(next) as (keyof GatewayConfig)[]).filter((k) => JSON.stringify(next[k]) !== JSON.stringify(config[k])) as string[]
      for (const key of ['listenAddress', 'port', 'agentsFile', 'sessionsFile', 'credstoreKeyFile'] as const) {
        if (changed.includes(key)) ctx.log.warn(`${key} changes take effect at the next restart`)
      }
      let agentsChanged = false
      try {
        agentsChanged = agents.reload()
      } catch (error) {
        diagnostics.record({level: 'error', kind: 'reload', message: `agents.json not reloaded: ${(error as Error).message}`})
        throw error
      }
      if (agentsChanged) changed.push('agents')
      // In-flight turns hold their own snapshot; only new requests see the new config.
      config = next
      diagnostics.record({level: 'info', kind: 'reload', message: 'reloaded', data: {changed}})
      return {reloaded: true, changed}
    }
    ctx.onReload(reload)

    const services: GatewayServices = {paths: ctx.paths, log: ctx.log, ledger: ctx.ledger, config: () => config, agents: () => agents.get(), events, chat, diagnostics}
    const extensions = GATEWAY_EXTENSIONS.map((factory) => factory(services)).filter((e) => e !== null)
    const compiled = compileExtensions(extensions.flatMap((e) => e.routes ?? []))
    const agentCard = async () => {
      const client = createClient('agentd', agentdApi, {socketPath: ctx.paths.socket('agentd'), token: resolveToken(ctx.paths), headers: {'x-osmoda-operator': 'daemon:gateway'}, timeoutMs: 5000})
      try {
        return (await client.agentCardGet()).card
      } catch (error) {
        if (error instanceof OsmodaError && error.code === 'DAEMON_UNAVAILABLE') throw error
        throw new OsmodaError('DAEMON_UNAVAILABLE', `the agent card is not available from agentd: ${(error as Error).message}`, {details: {daemon: 'agentd'}})
      } finally {
        client.close()
      }
    }
    const front = createFront({auth, services: () => services, extensions: () => compiled, version: ctx.version, agentCard, drain: drain.signal})
    const server = createRpcServer({
      daemon: 'gateway',
      version: ctx.version,
      api: gatewayApi,
      handlers: gatewayHandlers({
        health,
        reload,
        service,
        requests,
        diagnostics,
        drivers: async () => ({drivers: await Promise.all(Object.values(drivers).map(async (d) => ({name: d.name, display_name: d.display_name, description: d.description, supported_providers: d.supported_providers, supported_auth_types: d.supported_auth_types, default_models: d.default_models, ...(({available, version}) => ({available, version}))(await service.probeDriver(d.name))})))}),
        sessions,
        onSessionReset: (sessionId, actor) => ctx.ledger.append({type: 'session.reset', actor, payload: {session_id: sessionId}}),
      }),
      auth,
      log: ctx.log,
      intercept: front,
      onUpgrade: (req, socket, head) => sockets.handleUpgrade(req, socket, head),
    })
    const pruneAll = () => {
      events.prune(config.eventRetention)
      requests.prune(Date.now())
    }
    pruneAll()
    const prune = setInterval(pruneAll, PRUNE_EVERY_MS)
    const wedgeLoop = setInterval(() => void wedge.check().catch((error: unknown) => diagnostics.record({level: 'error', kind: 'wedge', message: `wedge check failed: ${(error as Error).message}`})), config.wedgeCheckSecs * 1000)
    wedgeLoop.unref()
    // A busy stream also prunes by count between the timer's rounds.
    let emitted = 0
    const unsubscribePrune = events.subscribe(() => {
      if (++emitted % 1000 === 0) events.prune(config.eventRetention)
    })
    prune.unref()
    const extensionStop = new AbortController()
    const running = extensions.map((e) =>
      Promise.resolve()
        .then(() => e.start?.(services, extensionStop.signal))
        .catch((error: unknown) => diagnostics.record({level: 'error', kind: 'extension', message: `${e.name} failed: ${(error as Error).message}`})),
    )
    const relayStop = new AbortController()
    const relay = startLedgerRelay({paths: ctx.paths, db, events, diagnostics, signal: relayStop.signal})
    try {
      await server.listen(ctx.paths.socket('gateway'))
      boundPort = await server.listenTcp(config.listenAddress, config.port)
      diagnostics.record({level: 'info', kind: 'start', message: `listening on ${config.listenAddress}:${boundPort}`, data: {port: boundPort}})
      ctx.ready()
      if (!ctx.signal.aborted) await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), {once: true}))
    } finally {
      clearInterval(prune)
      clearInterval(wedgeLoop)
      unsubscribePrune()
      extensionStop.abort()
      relayStop.abort()
      drain.abort()
      sockets.close()
      await chat.stopAll('shutdown')
      await server.close()
      await Promise.allSettled([...running, relay])
      sessions.close()
    }
  } finally {
    db.close()
  }
}

/** gateway: agent runtimes, chat, sessions, event stream and channels behind HTTP+WS (SPEC §2.10). */
export const gateway: DaemonDefinition<typeof GatewayConfig> = {name: 'gateway', configSchema: GatewayConfig, main}
