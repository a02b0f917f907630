import type {Handlers} from '../../../lib/rpc/server.js'
import type {execApi} from './api.js'
import type {ExecService} from './service.js'

/** Binds the exec routes to the exec service; no logic lives here. */
export function execHandlers(exec: ExecService): Handlers<typeof execApi> {
  return {
    shellExec: (input, ctx) => exec.shellExec(input, ctx),
  }
}
