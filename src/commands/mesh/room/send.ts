import {Args} from '@oclif/core'
import type {z} from 'zod'
import {meshApi} from '../../../daemons/mesh/api.js'
import type {RoomSendOutput} from '../../../daemons/mesh/rooms-api.js'
import {OsmodaCommand} from '../../../lib/cli/command.js'

type Sent = z.output<typeof RoomSendOutput>

export default class MeshRoomSend extends OsmodaCommand<Sent> {
  static override summary = 'Send a signed message to every member of a room.'
  static override description = 'Connected members get it now; the others catch up when they reconnect.'
  static override examples = ['<%= config.bin %> <%= command.id %> room_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 "deploy at 14:00"']
  static override args = {
    room: Args.string({description: 'Room id (room_…)', required: true}),
    text: Args.string({description: 'Message text (1..16384 characters)', required: true}),
  }

  async run(): Promise<Sent> {
    const {args} = await this.parse(MeshRoomSend)
    const sent = await this.client('mesh', meshApi).roomSend({room_id: args.room, text: args.text})
    this.say(`message ${sent.message_id}: delivered to ${sent.delivered_to.length}, queued for ${sent.queued_for.length}`)
    return sent
  }
}
