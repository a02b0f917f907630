import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {SWITCH_STATUSES, watchApi} from '../../daemons/watch/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Page = z.output<typeof watchApi.switchList.output>

export default class SwitchList extends OsmodaCommand<Page> {
  static override summary = 'List SafeSwitch sessions, newest first.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --status rolled_back --limit 5 --json']
  static override flags = {
    status: Flags.option({options: SWITCH_STATUSES, description: 'Only sessions in this state'})(),
    limit: Flags.integer({char: 'n', description: 'How many (1..200, default 20)'}),
    cursor: Flags.string({description: 'next_cursor of the previous page'}),
  }

  async run(): Promise<Page> {
    const {flags} = await this.parse(SwitchList)
    const page = await this.client('watch', watchApi).switchList({status: flags.status, limit: flags.limit, cursor: flags.cursor})
    this.table(page.switches, ['id', 'status', 'started_at', 'target_generation', 'plan'])
    if (page.next_cursor) this.note(`more: --cursor ${page.next_cursor}`)
    return page
  }
}
