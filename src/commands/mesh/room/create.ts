import {Args, Flags} from '@oclif/core'
import {meshApi} from '../../../daemons/mesh/api.js'
import type {Room} from '../../../daemons/mesh/rooms-api.js'
import {OsmodaCommand} from '../../../lib/cli/command.js'

export default class MeshRoomCreate extends OsmodaCommand<Room> {
  static override summary = 'Create a mesh room owned by this server.'
  static override description = 'This server is the owner and always a member; --peer adds paired peers now (see `osmoda mesh peers`). Only the owner adds members later.'
  static override examples = ['<%= config.bin %> <%= command.id %> ops --peer 3f2a9c0d1e2f3a4b5c6d7e8f9a0b1c2d', '<%= config.bin %> <%= command.id %> ops --json']
  static override args = {name: Args.string({description: 'Room name (1..64 characters)', required: true})}
  static override flags = {peer: Flags.string({description: 'Peer id to add as a member (repeatable)', multiple: true})}

  async run(): Promise<Room> {
    const {args, flags} = await this.parse(MeshRoomCreate)
    const room = await this.client('mesh', meshApi).roomCreate({name: args.name, peer_ids: flags.peer ?? []})
    this.say(`room ${room.id} "${room.name}" created with ${room.members.length} member(s)`)
    return room
  }
}
