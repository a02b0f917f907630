import type {ReloadResult} from '../../lib/daemon/runtime.js'
import type {Handlers} from '../../lib/rpc/server.js'
import type {RoutinesApi} from './api.js'
import type {RoutinesService} from './service.js'

/** Binds routines' route table to the service; no logic lives here. */
export function routinesHandlers(service: RoutinesService, reload: () => Promise<ReloadResult>): Handlers<RoutinesApi> {
  return {
    health: () => service.health(),
    reload: () => reload(),
    routineAdd: (input, ctx) => service.add(input, ctx),
    routineList: (input) => service.list(input),
    routineHistory: (input) => service.history(input),
    routineGet: (input) => service.get(input.id),
    routineUpdate: (input, ctx) => service.update(input, ctx),
    routineRemove: (input, ctx) => service.remove(input, ctx),
    routineTrigger: (input) => service.trigger(input),
    routineWebhook: (input) => service.webhook(input),
  }
}
