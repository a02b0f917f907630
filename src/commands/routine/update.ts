import {Args, Flags} from '@oclif/core'
import type {z} from 'zod'
import {routinesApi} from '../../daemons/routines/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {describeTrigger, parseActionFlag, TRIGGER_FLAGS, triggerFromFlags} from '../../lib/cli/routine-view.js'
import {UsageError} from '../../lib/errors.js'

type Updated = z.output<typeof routinesApi.routineUpdate.output>

export default class RoutineUpdate extends OsmodaCommand<Updated> {
  static override summary = 'Change a routine: enable or disable it, rename it, or replace its trigger or action.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> default-logscan --disable',
    '<%= config.bin %> <%= command.id %> default-health --every 120',
    `<%= config.bin %> <%= command.id %> rtn_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 --action '{"type":"log_scan","priority":"warning"}' --json`,
  ]
  static override args = {id: Args.string({description: 'Routine id', required: true})}
  static override flags = {
    enable: Flags.boolean({description: 'Enable it', exclusive: ['disable']}),
    disable: Flags.boolean({description: 'Disable it (defaults are disabled rather than removed)', exclusive: ['enable']}),
    name: Flags.string({description: 'New name'}),
    ...TRIGGER_FLAGS,
    action: Flags.string({description: 'New action as a JSON object'}),
  }

  async run(): Promise<Updated> {
    const {args, flags} = await this.parse(RoutineUpdate)
    const trigger = triggerFromFlags(flags)
    const change = {
      ...(flags.enable || flags.disable ? {enabled: Boolean(flags.enable)} : {}),
      ...(flags.name !== undefined ? {name: flags.name} : {}),
      ...(trigger ? {trigger: trigger as never} : {}),
      ...(flags.action !== undefined ? {action: parseActionFlag(flags.action) as never} : {}),
    }
    if (!Object.keys(change).length) throw new UsageError('nothing to change: pass --enable, --disable, --name, a trigger flag or --action', {code: 'USAGE'})
    const updated = await this.client('routines', routinesApi).routineUpdate({id: args.id, ...change})
    this.say(`${updated.id} "${updated.name}" ${updated.enabled ? 'enabled' : 'disabled'}: ${describeTrigger(updated.trigger)} → ${String(updated.action.type)}`)
    return updated
  }
}
