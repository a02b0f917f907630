import {join} from 'node:path'
import type {DaemonContext, DaemonDefinition, ReloadResult} from '../../lib/daemon/runtime.js'
import {serveUntilAborted} from '../../lib/daemon/serve.js'
import {OsmodaError} from '../../lib/errors.js'
import {loadNodeKeys} from '../../lib/identity.js'
import {createIdGenerator} from '../../lib/ids.js'
import {createTokenAuth} from '../../lib/rpc/auth.js'
import {createClient} from '../../lib/rpc/client.js'
import {createRpcServer} from '../../lib/rpc/server.js'
import {resolveToken} from '../../lib/tokens.js'
import {agentdApi} from '../agentd/api.js'
import type {AgentdClient} from './actions/context.js'
import {realHost} from './actions/host.js'
import {routinesApi} from './api.js'
import {RoutinesConfig} from './config.js'
import {startEventFeed} from './event-feed.js'
import {createRemoteGate} from './gate.js'
import {routinesHandlers} from './routes.js'
import {createRunner} from './runner.js'
import {createSecretBox, routinesSecretKey} from './secret-box.js'
import {SYSTEM_CLOCK} from './schedule.js'
import {createRoutinesService} from './service.js'
import {openRoutinesStore} from './store.js'

/** `<state>/…` paths of the config, made absolute. */
export function routinesFilePath(ctx: Pick<DaemonContext, 'paths'>, configured: string): string {
  return configured.startsWith('<state>/') ? join(ctx.paths.stateDir, configured.slice('<state>/'.length)) : configured
}

async function main(ctx: DaemonContext<RoutinesConfig>): Promise<void> {
  const startedAt = Date.now()
  let config = ctx.config
  const auth = createTokenAuth(ctx.paths.tokensDir)
  const store = openRoutinesStore(join(ctx.paths.daemonStateDir('routines'), 'routines.db'), createSecretBox(routinesSecretKey(loadNodeKeys(ctx.paths).signingKey)))
  const newId = createIdGenerator()

  // One agentd client with the operator token (LoadCredential in production), rebuilt after a
  // token rotation answers 401.
  let client: AgentdClient | null = null
  const agentd = (): AgentdClient => (client ??= createClient('agentd', agentdApi, {socketPath: ctx.paths.socket('agentd'), token: resolveToken(ctx.paths), headers: {'x-osmoda-operator': 'daemon:routines'}, timeoutMs: 30_000}))
  const dropClientOn401 = (error: unknown) => {
    if ((error as OsmodaError).code === 'UNAUTHENTICATED') {
      client?.close()
      client = null
    }
  }

  const runner = createRunner({store, ledger: ctx.ledger, clock: SYSTEM_CLOCK, config: () => config, agentd, host: realHost(), log: ctx.log.child({component: 'runner'}), newId})
  const gate = createRemoteGate(agentd)
  // Until the ledger stream answers, event routines cannot fire: health says so.
  let streamConnected = false
  const service = createRoutinesService({
    file: routinesFilePath(ctx, config.routinesFile),
    config: () => config,
    store,
    ledger: ctx.ledger,
    clock: SYSTEM_CLOCK,
    runner,
    gate: {
      check: (request) =>
        gate.check(request).catch((error: unknown) => {
          dropClientOn401(error)
          throw error
        }),
    },
    log: ctx.log,
    newId,
    version: ctx.version,
    startedAt,
    problems: () => (streamConnected || !service.hasEventRoutines() ? [] : ['ledger event stream from agentd is not connected: event routines cannot fire']),
  })

  const reload = async (): Promise<ReloadResult> => {
    const next = ctx.readConfig()
    auth.reload()
    const changed = (Object.keys(next) as (keyof RoutinesConfig)[]).filter((key) => JSON.stringify(next[key]) !== JSON.stringify(config[key]))
    if (changed.includes('routinesFile')) ctx.log.warn('routinesFile changes take effect at the next restart')
    config = next
    const routines = service.reload()
    return {reloaded: true, changed: [...changed, ...routines.changed.map((id) => `routine:${id}`)]}
  }
  ctx.onReload(reload)

  const server = createRpcServer({daemon: 'routines', version: ctx.version, api: routinesApi, handlers: routinesHandlers(service, reload), auth, log: ctx.log})
  const feedStop = new AbortController()
  let feed: Promise<void> | null = null
  try {
    service.start()
    feed = startEventFeed({agentd, store, log: ctx.log.child({component: 'events'}), signal: feedStop.signal, onEvent: (event) => service.onEvent(event), onState: (connected) => (streamConnected = connected), onError: dropClientOn401})
    await serveUntilAborted(ctx, server)
  } finally {
    feedStop.abort()
    await feed
    await service.stop()
    ;(client as AgentdClient | null)?.close()
    store.close()
  }
}

/** routines: cron, interval, event and webhook automation with persisted history (SPEC §2.4). */
export const routines: DaemonDefinition<typeof RoutinesConfig> = {name: 'routines', configSchema: RoutinesConfig, main}
