import {Flags} from '@oclif/core'
import {agentdApi} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {OsmodaError} from '../../lib/errors.js'

const POLL_MS = 100

type Result = {state: 'running' | 'ok' | 'degraded'; memory_count?: number; last_reindex_at?: string | null}

export default class MemoryReindex extends OsmodaCommand<Result> {
  static override summary = 'Rebuild the memory index from the markdown files.'
  static override description = 'agentd rebuilds in the background and keeps answering recalls from the old index meanwhile. With --wait the command returns once the new index is live.'
  static override examples = ['<%= config.bin %> <%= command.id %> --wait', '<%= config.bin %> <%= command.id %> --json']
  static override flags = {
    wait: Flags.boolean({description: 'Wait until the rebuild has finished'}),
    timeout: Flags.integer({description: 'Seconds to wait with --wait (default 600)', min: 1, dependsOn: ['wait']}),
  }

  async run(): Promise<Result> {
    const {flags} = await this.parse(MemoryReindex)
    const agentd = this.client('agentd', agentdApi)
    const before = (await agentd.memoryHealth()).last_reindex_at
    const started = await agentd.memoryReindex()
    if (!flags.wait) {
      this.say('memory reindex started; `osmoda memory health` shows when it is done')
      return started
    }
    const deadline = Date.now() + (flags.timeout ?? 600) * 1000
    for (;;) {
      const health = await agentd.memoryHealth()
      if (health.status !== 'reindexing' && health.last_reindex_at !== before) {
        this.say(`memory index rebuilt: ${health.memory_count} memories`)
        return {state: health.status, memory_count: health.memory_count, last_reindex_at: health.last_reindex_at}
      }
      if (Date.now() > deadline) throw new OsmodaError('UPSTREAM_TIMEOUT', 'the memory reindex did not finish in time', {hint: 'check `osmoda memory health` and the osmoda-agentd log'})
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    }
  }
}
