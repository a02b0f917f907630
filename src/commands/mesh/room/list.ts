import {meshApi} from '../../../daemons/mesh/api.js'
import type {Room} from '../../../daemons/mesh/rooms-api.js'
import {OsmodaCommand} from '../../../lib/cli/command.js'

export default class MeshRoomList extends OsmodaCommand<{rooms: Room[]}> {
  static override summary = 'List the mesh rooms this server is a member of.'
  static override aliases = ['mesh:rooms']
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> mesh rooms --json']

  async run(): Promise<{rooms: Room[]}> {
    await this.parse(MeshRoomList)
    const result = await this.client('mesh', meshApi).rooms({})
    if (result.rooms.length) this.table(result.rooms.map((r) => ({id: r.id, name: r.name, owner: r.owner.slice(0, 12), members: r.members.length, messages: r.message_count})), ['id', 'name', 'owner', 'members', 'messages'])
    else this.say('no rooms (create one with `osmoda mesh room create <name> --peer <id>`)')
    return result
  }
}
