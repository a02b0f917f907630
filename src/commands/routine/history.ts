import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {RUN_STATUSES, routinesApi} from '../../daemons/routines/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Page = z.output<typeof routinesApi.routineHistory.output>

export default class RoutineHistory extends OsmodaCommand<Page> {
  static override summary = 'Past runs of routines, newest first.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --routine default-health --status error --json']
  static override flags = {
    routine: Flags.string({char: 'r', description: 'Only this routine id'}),
    status: Flags.option({options: RUN_STATUSES, description: 'Only runs with this status'})(),
    limit: Flags.integer({char: 'n', description: 'How many (1..500, default 50)'}),
    cursor: Flags.string({description: 'next_cursor of the previous page'}),
  }

  async run(): Promise<Page> {
    const {flags} = await this.parse(RoutineHistory)
    const page = await this.client('routines', routinesApi).routineHistory({routine_id: flags.routine, status: flags.status, limit: flags.limit, cursor: flags.cursor})
    if (!page.runs.length) this.say('no runs')
    else this.table(page.runs.map((r) => ({id: r.id, routine: r.routine_id, trigger: r.trigger, status: r.status, started_at: r.started_at, error: r.error ?? ''})), ['id', 'routine', 'trigger', 'status', 'started_at', 'error'])
    if (page.next_cursor) this.note(`more: --cursor ${page.next_cursor}`)
    return page
  }
}
