import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {routinesApi} from '../../daemons/routines/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {routineRows} from '../../lib/cli/routine-view.js'

type Listed = z.output<typeof routinesApi.routineList.output>

export default class RoutineList extends OsmodaCommand<Listed> {
  static override summary = 'List routines with their trigger, last result and next run.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --enabled --json']
  static override flags = {
    enabled: Flags.boolean({description: 'Only enabled routines', exclusive: ['disabled']}),
    disabled: Flags.boolean({description: 'Only disabled routines', exclusive: ['enabled']}),
  }

  async run(): Promise<Listed> {
    const {flags} = await this.parse(RoutineList)
    const listed = await this.client('routines', routinesApi).routineList({enabled: flags.enabled ? true : flags.disabled ? false : undefined})
    if (!listed.routines.length) this.say('no routines')
    else this.table(routineRows(listed.routines), ['id', 'name', 'enabled', 'trigger', 'action', 'last', 'last_run_at', 'next_run_at'])
    return listed
  }
}
