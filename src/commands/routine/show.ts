import {Args} from '@oclif/core'
import type {z} from 'zod'
import {routinesApi} from '../../daemons/routines/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {describeTrigger} from '../../lib/cli/routine-view.js'

type Shown = z.output<typeof routinesApi.routineGet.output>

export default class RoutineShow extends OsmodaCommand<Shown> {
  static override summary = 'Show a routine and its last 10 runs.'
  static override examples = ['<%= config.bin %> <%= command.id %> default-health', '<%= config.bin %> <%= command.id %> rtn_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 --json']
  static override args = {id: Args.string({description: 'Routine id (rtn_… or default-…)', required: true})}

  async run(): Promise<Shown> {
    const {args} = await this.parse(RoutineShow)
    const routine = await this.client('routines', routinesApi).routineGet({id: args.id})
    this.say(`${routine.id} "${routine.name}" ${routine.enabled ? 'enabled' : 'DISABLED'}: ${describeTrigger(routine.trigger)} → ${JSON.stringify(routine.action)}`)
    this.say(`runs: ${routine.run_count}, last ${routine.last_status ?? '-'} at ${routine.last_run_at ?? '-'}, next ${routine.next_run_at ?? '-'}`)
    if (routine.runs.length) this.table(routine.runs.map((r) => ({id: r.id, trigger: r.trigger, status: r.status, started_at: r.started_at, error: r.error ?? '', output: r.output.slice(0, 120)})), ['id', 'trigger', 'status', 'started_at', 'error', 'output'])
    return routine
  }
}
