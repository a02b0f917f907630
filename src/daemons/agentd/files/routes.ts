import type {Handlers} from '../../../lib/rpc/server.js'
import type {filesApi} from './api.js'
import type {FileService} from './service.js'

/** Binds the file routes to the file service; no logic lives here. */
export function fileHandlers(files: FileService): Handlers<typeof filesApi> {
  return {
    fileRead: (input) => files.read(input),
    fileWrite: (input, ctx) => files.write(input, ctx),
    fileList: (input) => files.list(input),
  }
}
