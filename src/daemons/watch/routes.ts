import type {ReloadResult} from '../../lib/daemon/runtime.js'
import type {Handlers} from '../../lib/rpc/server.js'
import type {z} from 'zod'
import type {WatchApi, WatchHealth} from './api.js'
import type {SwitchService} from './switch-service.js'
import type {WatcherService} from './watcher-service.js'
import type {FleetService} from './fleet-service.js'

/** Binds watch's route table to its services; no logic lives here. */
export function watchHandlers(deps: {health: () => Promise<z.input<typeof WatchHealth>>; reload: () => Promise<ReloadResult>; switches: SwitchService; watchers: WatcherService; fleet: FleetService}): Handlers<WatchApi> {
  const {switches, watchers, fleet} = deps
  return {
    health: () => deps.health(),
    reload: () => deps.reload(),
    switchBegin: (input, ctx) => switches.begin(input, ctx),
    switchList: (input) => switches.list(input),
    switchGet: (input) => switches.get(input.id),
    switchCommit: (input, ctx) => switches.commit(input.id, ctx),
    switchRollback: (input, ctx) => switches.rollback(input.id, input.reason, ctx),
    watcherAdd: (input, ctx) => watchers.add(input, ctx),
    watcherList: async (input) => watchers.list(input.state),
    watcherGet: async (input) => watchers.get(input.id),
    watcherRemove: (input, ctx) => watchers.remove(input.id, input.approval_id, ctx),
    watcherReset: (input, ctx) => watchers.reset(input.id, ctx),
    fleetPropose: (input, ctx) => fleet.propose(input, ctx),
    fleetList: async (input) => fleet.list(input),
    fleetGet: async (input) => fleet.get(input.id),
    fleetVote: (input, ctx) => fleet.vote(input, ctx),
    fleetRollback: (input, ctx) => fleet.rollback(input.id, input.reason, ctx),
    fleetInbound: (input) => fleet.inbound(input.peer_id, input.message),
  }
}
