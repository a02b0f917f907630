import type {Handlers} from '../../../lib/rpc/server.js'
import type {sandboxApi} from './api.js'
import type {SandboxService} from './service.js'

/** Binds the sandbox routes to the sandbox service; no logic lives here. */
export function sandboxHandlers(sandbox: SandboxService): Handlers<typeof sandboxApi> {
  return {
    sandboxExec: (input, ctx) => sandbox.exec(input, ctx),
  }
}
