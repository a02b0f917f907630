import {Args, Flags} from '@oclif/core'
import {meshApi} from '../../../daemons/mesh/api.js'
import {OsmodaCommand} from '../../../lib/cli/command.js'
import {UsageError} from '../../../lib/errors.js'

type Sent = {delivered: true; bytes: number}

export default class MeshPeerSend extends OsmodaCommand<Sent> {
  static override summary = 'Send one encrypted message to a connected peer.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> 3f2a9c… --text "deploy at 14:00"',
    '<%= config.bin %> <%= command.id %> 3f2a9c… --command uptime',
    '<%= config.bin %> <%= command.id %> 3f2a9c… --message \'{"type":"alert","severity":"warning","title":"disk 85%","detail":"/var"}\'',
  ]
  static override args = {id: Args.string({description: 'Peer id (instance_id)', required: true})}
  static override flags = {
    text: Flags.string({description: 'A chat message', exactlyOne: ['text', 'command', 'message']}),
    command: Flags.string({description: "Run this commandAllow entry on the peer (its result comes back as command_result)", exactlyOne: ['text', 'command', 'message']}),
    message: Flags.string({description: 'The whole message as JSON (chat, alert, health_report or command)', exactlyOne: ['text', 'command', 'message']}),
  }

  async run(): Promise<Sent> {
    const {args, flags} = await this.parse(MeshPeerSend)
    let message: Record<string, unknown>
    if (flags.text !== undefined) message = {type: 'chat', text: flags.text}
    else if (flags.command !== undefined) message = {type: 'command', name: flags.command}
    else {
      try {
        message = JSON.parse(flags.message ?? '') as Record<string, unknown>
      } catch {
        throw new UsageError('--message is not JSON', {code: 'USAGE', hint: 'e.g. --message \'{"type":"chat","text":"hi"}\''})
      }
    }
    const result = await this.client('mesh', meshApi).peerSend({peer_id: args.id, message: message as never})
    this.say(`delivered (${result.bytes} bytes)`)
    return result
  }
}
