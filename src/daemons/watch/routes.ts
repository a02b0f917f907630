import type {ReloadResult} from '../../lib/daemon/runtime.js'
import type {Handlers} from '../../lib/rpc/server.js'
import type {z} from 'zod'
import type {WatchApi, WatchHealth} from './api.js'
import type {SwitchService} from './switch-service.js'

/** Binds watch's route table to its services; no logic lives here. */
export function watchHandlers(deps: {health: () => Promise<z.input<typeof WatchHealth>>; reload: () => Promise<ReloadResult>; switches: SwitchService}): Handlers<WatchApi> {
  const {switches} = deps
  return {
    health: () => deps.health(),
    reload: () => deps.reload(),
    switchBegin: (input, ctx) => switches.begin(input, ctx),
    switchList: (input) => switches.list(input),
    switchGet: (input) => switches.get(input.id),
    switchCommit: (input, ctx) => switches.commit(input.id, ctx),
    switchRollback: (input, ctx) => switches.rollback(input.id, input.reason, ctx),
  }
}
