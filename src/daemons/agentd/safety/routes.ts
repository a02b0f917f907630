import type {Handlers} from '../../../lib/rpc/server.js'
import type {safetyApi} from './api.js'
import type {SafetyService} from './service.js'

/** Binds the safety routes to the safety service; no logic lives here. */
export function safetyHandlers(safety: SafetyService): Handlers<typeof safetyApi> {
  return {
    safetyStatus: () => safety.status(),
    safetyRollback: (input, ctx) => safety.rollback(input, ctx),
    safetyPanic: (input, ctx) => safety.panic(input, ctx),
    safetyRestart: (_input, ctx) => safety.restart(ctx),
  }
}
