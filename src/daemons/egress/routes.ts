import type {ReloadResult} from '../../lib/daemon/runtime.js'
import type {Handlers} from '../../lib/rpc/server.js'
import type {EgressApi} from './api.js'
import type {EgressProxy} from './proxy.js'
import type {EgressService} from './service.js'

/** Binds egress's route table; no logic lives here. */
export function egressHandlers(service: EgressService, proxy: EgressProxy, reload: () => Promise<ReloadResult>): Handlers<EgressApi> {
  return {
    health: () => service.health(),
    reload: () => reload(),
    allowlistGet: () => service.allowlist(),
    allowlistPut: (input, ctx) => service.setAllowlist(input, ctx.actor),
    tunnels: () => ({tunnels: proxy.tunnels()}),
  }
}
