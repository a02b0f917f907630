import type {Handlers} from '../../../lib/rpc/server.js'
import type {witnessApi} from './api.js'
import type {CosignatureService} from './service.js'

/** Binds the witness routes to the cosignature service; no logic lives here. */
export function witnessHandlers(service: CosignatureService): Handlers<typeof witnessApi> {
  return {
    ledgerCosignatures: (input) => service.store(input),
  }
}
