import {Args, Flags} from '@oclif/core'
import type {z} from 'zod'
import {routinesApi} from '../../daemons/routines/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Triggered = z.output<typeof routinesApi.routineTrigger.output>

export default class RoutineTrigger extends OsmodaCommand<Triggered> {
  static override summary = 'Run a routine now and show what it found.'
  static override examples = ['<%= config.bin %> <%= command.id %> default-health', '<%= config.bin %> <%= command.id %> default-memory --no-wait --json']
  static override args = {id: Args.string({description: 'Routine id', required: true})}
  static override flags = {wait: Flags.boolean({description: 'Wait for the run to finish (default; --no-wait returns the run id)', default: true, allowNo: true})}

  async run(): Promise<Triggered> {
    const {args, flags} = await this.parse(RoutineTrigger)
    // A waited run may take its action's whole deadline (≤ 600 s).
    const run = await this.client('routines', routinesApi).routineTrigger({id: args.id, wait: flags.wait}, {timeoutMs: flags.wait ? 605_000 : undefined})
    if (!run.status) this.say(`started ${run.run_id}`)
    else this.say(`${run.run_id} ${run.status}${run.error ? `: ${run.error}` : ''}\n${run.output ?? ''}`)
    if (run.status && run.status !== 'ok') process.exitCode = 1
    return run
  }
}
