import type {Handlers} from '../../lib/rpc/server.js'
import type {witnessApi} from './witness-api.js'
import type {WitnessService} from './witness.js'

/** Binds the witnessing routes to the witness service; no logic lives here. */
export function witnessHandlers(witness: WitnessService): Handlers<typeof witnessApi> {
  return {
    witnessHeads: () => witness.heads(),
  }
}
