import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {routinesApi} from '../../daemons/routines/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {describeTrigger, parseActionFlag, TRIGGER_FLAGS, triggerFromFlags} from '../../lib/cli/routine-view.js'
import {UsageError} from '../../lib/errors.js'

type Added = z.output<typeof routinesApi.routineAdd.output>

export default class RoutineAdd extends OsmodaCommand<Added> {
  static override summary = 'Add a routine: background work on a cron, interval, ledger event or webhook trigger.'
  static override description = `Exactly one trigger flag: --cron, --every, --on-event or --webhook. --action is the action as JSON:
health_check, service_monitor {units}, log_scan {priority}, memory_maintenance, generation_check,
network_watch {expected_ports}, command {command (absolute path), args, timeout_secs}, webhook {url, method, body, headers}.`
  static override examples = [
    `<%= config.bin %> <%= command.id %> --name disk-report --cron "0 7 * * *" --action '{"type":"command","command":"/usr/bin/df","args":["-h"]}'`,
    `<%= config.bin %> <%= command.id %> --name on-rollback --on-event switch.rolled_back --action '{"type":"health_check"}'`,
    `<%= config.bin %> <%= command.id %> --name deploy-hook --webhook --action '{"type":"command","command":"/usr/local/bin/deploy"}' --json`,
  ]
  static override flags = {
    name: Flags.string({description: 'Unique name (1..64 characters)', required: true}),
    ...TRIGGER_FLAGS,
    action: Flags.string({description: 'The action as a JSON object', required: true}),
    disabled: Flags.boolean({description: 'Add it disabled'}),
  }

  async run(): Promise<Added> {
    const {flags} = await this.parse(RoutineAdd)
    const trigger = triggerFromFlags(flags)
    if (!trigger) throw new UsageError('give one trigger: --cron EXPR, --every SECS, --on-event TYPE or --webhook', {code: 'USAGE'})
    const added = await this.client('routines', routinesApi).routineAdd({name: flags.name, trigger: trigger as never, action: parseActionFlag(flags.action) as never, enabled: !flags.disabled})
    this.say(`added ${added.id} "${added.name}": ${describeTrigger(added.trigger)} → ${String(added.action.type)}${added.next_run_at ? `, next run ${added.next_run_at}` : ''}`)
    if (added.webhook_secret) this.say(`webhook secret (shown once, keep it): ${added.webhook_secret}`)
    return added
  }
}
