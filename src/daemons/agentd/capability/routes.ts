import type {Handlers} from '../../../lib/rpc/server.js'
import type {capabilityApi} from './api.js'
import type {CapabilityService} from './service.js'

/** Binds the capability routes to the service; no logic lives here. */
export function capabilityHandlers(service: CapabilityService): Handlers<typeof capabilityApi> {
  return {
    capabilityMint: (input, ctx) => service.mint(input, ctx),
    capabilityVerify: (input) => service.verify(input),
    capabilityRevoke: (input, ctx) => service.revoke(input.token_id, ctx.actor),
    capabilityRevoked: () => service.revoked(),
  }
}
