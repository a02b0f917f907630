import {Args} from '@oclif/core'
import {meshApi} from '../../../daemons/mesh/api.js'
import type {Room} from '../../../daemons/mesh/rooms-api.js'
import {OsmodaCommand} from '../../../lib/cli/command.js'

export default class MeshRoomJoin extends OsmodaCommand<Room> {
  static override summary = 'Add a paired peer to a room this server owns.'
  static override examples = ['<%= config.bin %> <%= command.id %> room_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 3f2a9c0d1e2f3a4b5c6d7e8f9a0b1c2d']
  static override args = {
    room: Args.string({description: 'Room id (room_…)', required: true}),
    peer: Args.string({description: 'Peer id to add (see `osmoda mesh peers`)', required: true}),
  }

  async run(): Promise<Room> {
    const {args} = await this.parse(MeshRoomJoin)
    const room = await this.client('mesh', meshApi).roomJoin({room_id: args.room, peer_id: args.peer})
    this.say(`room ${room.id}: ${room.members.length} member(s)`)
    return room
  }
}
