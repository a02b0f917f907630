import type {z} from 'zod'
import {agentdApi, type MemoryHealth as Health} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type MemoryHealthResult = z.output<typeof Health>

export default class MemoryHealth extends OsmodaCommand<MemoryHealthResult> {
  static override summary = 'Show the memory store: count, index state, directory, last rebuild.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<MemoryHealthResult> {
    const health = await this.client('agentd', agentdApi).memoryHealth()
    this.table([health], ['status', 'memory_count', 'index_ok', 'last_reindex_at', 'dir'])
    return health
  }
}
