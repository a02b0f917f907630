import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {agentdApi} from '../../daemons/agentd/api.js'
import type {ApprovalRules} from '../../daemons/agentd/approvals/api.js'
import {UsageError} from '../../lib/errors.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Rules = z.output<typeof ApprovalRules>

export default class ApprovalRulesCommand extends OsmodaCommand<Rules> {
  static override summary = 'Show the approval rules, or replace your overrides with --set.'
  static override description =
    'Each operation (a tool name) is `always` (the agent needs an approval), `never` (no approval) or `policy` (the daemon decides, ' +
    'e.g. file_write under a write root marked approval). --set replaces all of your previous overrides: list every override you want ' +
    'to keep. --reset removes them, back to the defaults and the config seed.'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --set capability_mint=always --set file_write=policy',
    '<%= config.bin %> <%= command.id %> --reset',
  ]
  static override flags = {
    set: Flags.string({description: 'operation=always|never|policy (repeatable)', multiple: true}),
    reset: Flags.boolean({description: 'Drop every override', exclusive: ['set']}),
  }

  async run(): Promise<Rules> {
    const {flags} = await this.parse(ApprovalRulesCommand)
    const agentd = this.client('agentd', agentdApi)
    let rules: Rules
    if (flags.set || flags.reset) {
      const overrides: Record<string, 'always' | 'never' | 'policy'> = {}
      for (const entry of flags.set ?? []) {
        const match = /^([a-z][a-z0-9_]*)=(always|never|policy)$/.exec(entry)
        if (!match) throw new UsageError(`--set ${entry}: expected operation=always|never|policy`, {code: 'USAGE'})
        overrides[match[1]!] = match[2] as 'always' | 'never' | 'policy'
      }
      rules = await agentd.approvalRulesPut({rules: overrides})
    } else {
      rules = await agentd.approvalRulesGet()
    }
    this.table(
      Object.entries(rules.rules)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([operation, rule]) => ({operation, rule})),
      ['operation', 'rule'],
    )
    this.note('operations not listed: never')
    return rules
  }
}
