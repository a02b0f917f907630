import {Args, Flags} from '@oclif/core'
import type {z} from 'zod'
import {agentdApi, type MemoryRecallOutput} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Recall = z.output<typeof MemoryRecallOutput>

export default class MemoryRecall extends OsmodaCommand<Recall> {
  static override summary = 'Search memories: words (stemmed), "phrases" and prefix* terms, best first.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> "nginx restart"',
    '<%= config.bin %> <%= command.id %> \'"disk full" journal*\' --timeframe 7d --category incident',
    '<%= config.bin %> <%= command.id %> postgres --tag db --max 5 --json',
  ]
  static override args = {query: Args.string({description: 'What to look for', required: true})}
  static override flags = {
    max: Flags.integer({description: 'How many memories (1..100, default 10)'}),
    timeframe: Flags.string({description: 'Only this window: 24h, 7d, 30m, an RFC 3339 instant, or YYYY[-MM[-DD]]'}),
    category: Flags.string({description: 'Only this category'}),
    tag: Flags.string({description: 'Only memories with this tag (repeatable; all must match)', multiple: true}),
  }

  async run(): Promise<Recall> {
    const {args, flags} = await this.parse(MemoryRecall)
    const result = await this.client('agentd', agentdApi).memoryRecall({query: args.query, max_results: flags.max, timeframe: flags.timeframe, category: flags.category, tags: flags.tag})
    this.table(
      result.memories.map((m) => ({relevance: m.relevance.toFixed(2), ts: m.ts, category: m.category, id: m.id, summary: m.summary.length > 72 ? `${m.summary.slice(0, 69)}...` : m.summary})),
      ['relevance', 'ts', 'category', 'id', 'summary'],
    )
    this.say(`${result.memories.length} of ${result.total_matches} matching memories`)
    return result
  }
}
