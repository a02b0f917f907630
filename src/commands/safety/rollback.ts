import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {agentdApi} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Answer = z.output<typeof agentdApi.safetyRollback.output>

export default class SafetyRollback extends OsmodaCommand<Answer> {
  static override summary = 'Roll NixOS back to the newest generation older than the current one, now.'
  static override description =
    'Emergency path, independent of SafeSwitch: runs at once (never gated for the operator). The switch and activation run in a transient unit; the outcome is recorded in the ledger as safety.rolled_back (see `osmoda events --type safety.*`).'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --reason "nginx broken after upgrade" --json']
  static override flags = {
    reason: Flags.string({description: 'Why (at most 500 characters; kept in the ledger)'}),
  }

  async run(): Promise<Answer> {
    const {flags} = await this.parse(SafetyRollback)
    const answer = await this.client('agentd', agentdApi).safetyRollback({reason: flags.reason})
    this.say(`rolling back from generation ${answer.from_generation} to ${answer.to_generation}${answer.unit ? ` in ${answer.unit}` : ''}`)
    this.note('follow the outcome with: osmoda events --type "safety.*" --follow')
    return answer
  }
}
