import {Args, Flags} from '@oclif/core'
import type {z} from 'zod'
import {meshApi} from '../../../daemons/mesh/api.js'
import type {RoomHistoryOutput} from '../../../daemons/mesh/rooms-api.js'
import {OsmodaCommand} from '../../../lib/cli/command.js'

type History = z.output<typeof RoomHistoryOutput>

export default class MeshRoomHistory extends OsmodaCommand<History> {
  static override summary = "Show a room's newest messages, oldest first."
  static override examples = ['<%= config.bin %> <%= command.id %> room_01JDX8Q4S1T6V0W7Y2Z3A4B5C6', '<%= config.bin %> <%= command.id %> room_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 --limit 200 --json']
  static override args = {room: Args.string({description: 'Room id (room_…)', required: true})}
  static override flags = {
    limit: Flags.integer({description: 'How many messages (1..500, default 50)'}),
    cursor: Flags.string({description: 'next_cursor of a previous page: older messages'}),
  }

  async run(): Promise<History> {
    const {args, flags} = await this.parse(MeshRoomHistory)
    const history = await this.client('mesh', meshApi).roomHistory({room_id: args.room, limit: flags.limit, cursor: flags.cursor})
    if (history.messages.length) this.table(history.messages.map((m) => ({ts: m.ts, sender: m.sender.slice(0, 12), text: m.text})), ['ts', 'sender', 'text'])
    else this.say('no messages')
    if (history.next_cursor) this.say(`older messages: --cursor ${history.next_cursor}`)
    return history
  }
}
