import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {gatewayApi} from '../../daemons/gateway/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type History = z.output<typeof gatewayApi.chatHistory.output>

export default class ChatHistory extends OsmodaCommand<History> {
  static override summary = 'Replay a conversation: user messages, final agent messages and tool calls (no deltas).'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --session agent:mobile --since 120 --json']
  static override flags = {
    session: Flags.string({description: 'Session key (default agent:osmoda)', default: 'agent:osmoda'}),
    since: Flags.integer({description: 'Only entries after this seq', default: 0, min: 0}),
    limit: Flags.integer({description: 'At most this many of the newest entries (1..200)', default: 200, min: 1}),
  }

  async run(): Promise<History> {
    const {flags} = await this.parse(ChatHistory)
    const history = await this.client('gateway', gatewayApi).chatHistory({session_key: flags.session, since: flags.since, limit: flags.limit})
    for (const e of history.entries) {
      if (e.kind === 'tool') this.say(`  [${e.tool}${e.target ? ` ${e.target}` : ''}${e.ok === false ? ' failed' : ''}]`)
      else this.say(`${e.kind === 'user' ? '>' : e.kind === 'agent' ? '<' : '!'} ${e.text ?? ''}`)
    }
    return history
  }
}
