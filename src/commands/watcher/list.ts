import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {watchApi} from '../../daemons/watch/api.js'
import {WATCHER_STATES} from '../../daemons/watch/watcher-api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {describeWatcherCheck} from '../../lib/cli/watcher-view.js'

type Page = z.output<typeof watchApi.watcherList.output>

export default class WatcherList extends OsmodaCommand<Page> {
  static override summary = 'List watchers and their states.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --state escalated --json']
  static override flags = {state: Flags.option({options: WATCHER_STATES, description: 'Only watchers in this state'})()}

  async run(): Promise<Page> {
    const {flags} = await this.parse(WatcherList)
    const page = await this.client('watch', watchApi).watcherList({state: flags.state})
    this.table(
      page.watchers.map((w) => ({id: w.id, name: w.name, state: w.state, check: describeWatcherCheck(w.check), every: `${w.interval_secs}s`, last: w.last_result ? `${w.last_result.ok ? 'ok' : 'FAIL'} ${w.last_result.at}` : '-'})),
      ['id', 'name', 'state', 'check', 'every', 'last'],
    )
    return page
  }
}
