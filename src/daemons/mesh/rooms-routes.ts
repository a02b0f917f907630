import type {Handlers} from '../../lib/rpc/server.js'
import type {roomsApi} from './rooms-api.js'
import type {RoomsService} from './rooms.js'

/** Binds the room routes to the rooms service; no logic lives here. */
export function roomsHandlers(rooms: RoomsService): Handlers<typeof roomsApi> {
  return {
    rooms: () => rooms.list(),
    roomCreate: (input, ctx) => rooms.create(input, ctx.actor),
    roomJoin: (input, ctx) => rooms.join(input, ctx.actor),
    roomSend: (input, ctx) => rooms.send(input, ctx.actor),
    roomHistory: (input) => rooms.history(input),
  }
}
