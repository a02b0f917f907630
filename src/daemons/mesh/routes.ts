import type {ReloadResult} from '../../lib/daemon/runtime.js'
import type {Handlers} from '../../lib/rpc/server.js'
import type {MeshApi, meshCoreApi} from './api.js'
import type {MeshService} from './service.js'
import type {RoomsService} from './rooms.js'
import {roomsHandlers} from './rooms-routes.js'
import type {WitnessService} from './witness.js'
import {witnessHandlers} from './witness-routes.js'

/** Binds mesh's core routes to the service; no logic lives here. */
export function meshCoreHandlers(service: MeshService, reload: () => Promise<ReloadResult>): Handlers<typeof meshCoreApi> {
  return {
    health: () => service.health(),
    reload: () => reload(),
    identity: () => service.identity(),
    identityRotate: () => service.rotateIdentity(),
    inviteCreate: (input, ctx) => service.inviteCreate(input, ctx),
    inviteAccept: (input, ctx) => service.inviteAccept(input, ctx),
    invites: (input) => service.invites(input),
    inviteRevoke: (input, ctx) => service.inviteRevoke(input, ctx),
    peers: (input) => service.peers(input),
    peerGet: (input) => service.peer(input.peer_id),
    peerSend: (input, ctx) => service.peerSend(input, ctx),
    peerRemove: (input, ctx) => service.peerRemove(input, ctx),
  }
}

/** Handlers for mesh's whole route table: the core plus one spread line per plug-in module. */
export function meshHandlers(service: MeshService, reload: () => Promise<ReloadResult>, modules: {rooms: RoomsService; witness: WitnessService}): Handlers<MeshApi> {
  return {
    ...meshCoreHandlers(service, reload),
    ...roomsHandlers(modules.rooms),
    ...witnessHandlers(modules.witness),
  }
}
