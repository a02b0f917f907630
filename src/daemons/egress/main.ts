import type {DaemonContext, DaemonDefinition, ReloadResult} from '../../lib/daemon/runtime.js'
import {serveUntilAborted} from '../../lib/daemon/serve.js'
import {OsmodaError} from '../../lib/errors.js'
import {loadNodePublicKey} from '../../lib/identity.js'
import {createTokenAuth} from '../../lib/rpc/auth.js'
import {createClient, type RpcClient} from '../../lib/rpc/client.js'
import {createRpcServer} from '../../lib/rpc/server.js'
import {resolveToken} from '../../lib/tokens.js'
import {agentdApi} from '../agentd/api.js'
import {egressApi, type Allowlist} from './api.js'
import {EgressConfig} from './config.js'
import {policyFrom, type EgressPolicy} from './decision.js'
import {createEgressEvents} from './events.js'
import {createEgressProxy, type ProxySettings} from './proxy.js'
import {createRevocationPoller} from './revocations.js'
import {egressHandlers} from './routes.js'
import {createEgressService} from './service.js'

async function main(ctx: DaemonContext<EgressConfig>): Promise<void> {
  const startedAt = Date.now()
  let config = ctx.config
  const verifyKey = loadVerifyKey(ctx)
  const auth = createTokenAuth(ctx.paths.tokensDir)

  // The revocation list comes from agentd with the operator token (LoadCredential in production).
  const agentdLink: {client: RpcClient<typeof agentdApi> | null} = {client: null}
  const revocations = createRevocationPoller({
    log: ctx.log,
    fetch: async (signal) => {
      const agentd = (agentdLink.client ??= createClient('agentd', agentdApi, {socketPath: ctx.paths.socket('agentd'), token: resolveToken(ctx.paths), headers: {'x-osmoda-operator': 'daemon:egress'}, timeoutMs: 5000}))
      try {
        return await agentd.capabilityRevoked(undefined, {signal})
      } catch (error) {
        // A rotated token is picked up on the next try.
        if ((error as OsmodaError).code === 'UNAUTHENTICATED' || (error as OsmodaError).code === 'FORBIDDEN') {
          agentd.close()
          agentdLink.client = null
        }
        throw error
      }
    },
  })

  const events = createEgressEvents({ledger: ctx.ledger})
  let listen = {address: config.listenAddress, port: null as number | null, proxy_socket: proxySocketPath(ctx, config)}
  const service = createEgressService({paths: ctx.paths, ledger: ctx.ledger, config: () => config, revocations, proxy: () => proxy, listen: () => listen, version: ctx.version, startedAt})
  let policyOf: {allowlist: Allowlist; policy: EgressPolicy} | null = null
  const settings = (): ProxySettings => {
    const allowlist = service.allowlist()
    if (policyOf?.allowlist !== allowlist) policyOf = {allowlist, policy: policyFrom(allowlist)}
    return {
      policy: policyOf.policy,
      maxTunnels: config.maxTunnels,
      connectTimeoutMs: config.connectTimeoutSecs * 1000,
      dnsTimeoutMs: config.dnsTimeoutSecs * 1000,
      requireSniMatch: config.requireSniMatch,
      idleTimeoutMs: config.idleTimeoutSecs * 1000,
      maxLifetimeMs: config.maxLifetimeSecs * 1000,
    }
  }
  const proxy = createEgressProxy({settings, verifyKey, revocations, events, log: ctx.log.child({component: 'proxy'})})

  const reload = async (): Promise<ReloadResult> => {
    const next = ctx.readConfig()
    auth.reload()
    const changed = (Object.keys(next) as (keyof EgressConfig)[]).filter((key) => JSON.stringify(next[key]) !== JSON.stringify(config[key]))
    if (changed.some((key) => key === 'listenAddress' || key === 'listenPort' || key === 'proxySocket')) ctx.log.warn('listener changes take effect at the next restart', {changed})
    config = next
    service.reload()
    await revocations.refresh(ctx.signal)
    ctx.log.info('reloaded', {changed})
    return {reloaded: true, changed}
  }
  ctx.onReload(reload)

  const server = createRpcServer({daemon: 'egress', version: ctx.version, api: egressApi, handlers: egressHandlers(service, proxy, reload), auth, log: ctx.log})
  const flushing = setInterval(() => events.flush(), 5000)
  try {
    const port = await proxy.listenTcp(config.listenAddress, config.listenPort).catch((error: NodeJS.ErrnoException) => {
      throw new OsmodaError('CONFLICT', `egress cannot listen on ${config.listenAddress}:${config.listenPort}: ${error.code ?? error.message}`, {hint: 'free the port or set listenPort in <config>/egress.json (OSMODA_EGRESS_LISTEN_PORT)'})
    })
    listen = {...listen, port}
    await proxy.listenUnix(listen.proxy_socket)
    revocations.start(ctx.signal)
    await serveUntilAborted(ctx, server)
  } finally {
    clearInterval(flushing)
    await proxy.close()
    events.flush(true)
    agentdLink.client?.close()
  }
}

function proxySocketPath(ctx: DaemonContext<EgressConfig>, config: EgressConfig): string {
  return config.proxySocket.startsWith('<run>/') ? ctx.paths.runDir + config.proxySocket.slice('<run>'.length) : config.proxySocket
}

function loadVerifyKey(ctx: DaemonContext<EgressConfig>) {
  try {
    return loadNodePublicKey(ctx.paths).verifyKey
  } catch (error) {
    throw new OsmodaError('NOT_READY', `node identity in ${ctx.paths.identityDir} is missing or unreadable: ${(error as Error).message}`, {hint: 'run `osmoda init`'})
  }
}

/** egress: the capability-checked CONNECT proxy for sandboxes (SPEC §2.9). */
export const egress: DaemonDefinition<typeof EgressConfig> = {name: 'egress', configSchema: EgressConfig, main}
