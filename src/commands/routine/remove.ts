import {createInterface} from 'node:readline/promises'
import {Args, Flags} from '@oclif/core'
import {routinesApi} from '../../daemons/routines/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {OsmodaError, UsageError} from '../../lib/errors.js'

export default class RoutineRemove extends OsmodaCommand<{removed: string}> {
  static override summary = 'Remove a routine (its run history stays).'
  static override description = 'Default routines come back at the next start while installDefaults is on: disable them with `routine update <id> --disable` instead.'
  static override examples = ['<%= config.bin %> <%= command.id %> rtn_01JDX8Q4S1T6V0W7Y2Z3A4B5C6', '<%= config.bin %> <%= command.id %> rtn_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 --yes --json']
  static override args = {id: Args.string({description: 'Routine id', required: true})}
  static override flags = {yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation (required without a terminal)'})}

  async run(): Promise<{removed: string}> {
    const {args, flags} = await this.parse(RoutineRemove)
    if (!flags.yes) {
      if (!process.stdin.isTTY) throw new UsageError('removing a routine needs --yes without a terminal', {code: 'USAGE'})
      const rl = createInterface({input: process.stdin, output: process.stderr})
      const answer = await rl.question(`Remove routine ${args.id}? [y/N] `).finally(() => rl.close())
      if (!/^y(es)?$/i.test(answer.trim())) throw new OsmodaError('ABORTED', 'not removed', {exitCode: 1})
    }
    const result = await this.client('routines', routinesApi).routineRemove({id: args.id})
    this.say(`removed ${result.removed}`)
    return result
  }
}
