import {Flags} from '@oclif/core'
import {agentdApi} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Stored = {id: string; seq: number; path: string}

export default class MemoryStore extends OsmodaCommand<Stored> {
  static override summary = 'Store a memory (markdown file + index) in agentd.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> --summary "nginx needs a reload after cert renewal" --category fix --tag nginx --tag tls',
    '<%= config.bin %> <%= command.id %> --summary "operator prefers quiet nights" --category preference --json',
  ]
  static override flags = {
    summary: Flags.string({description: 'What to remember (1..2000 characters); searched most strongly', required: true}),
    detail: Flags.string({description: 'Longer notes (at most 64000 characters)'}),
    category: Flags.string({description: 'Lowercase category, e.g. incident, fix, preference (default general)'}),
    tag: Flags.string({description: 'A tag (repeatable, at most 32)', multiple: true}),
  }

  async run(): Promise<Stored> {
    const {flags} = await this.parse(MemoryStore)
    const stored = await this.client('agentd', agentdApi).memoryStore({summary: flags.summary, detail: flags.detail, category: flags.category, tags: flags.tag})
    this.say(`stored ${stored.id} (ledger seq ${stored.seq}) at ${stored.path}`)
    return stored
  }
}
