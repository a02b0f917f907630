import {Args} from '@oclif/core'
import type {z} from 'zod'
import {watchApi} from '../../daemons/watch/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {renderWatcher} from '../../lib/cli/watcher-view.js'

type Shown = z.output<typeof watchApi.watcherGet.output>

export default class WatcherShow extends OsmodaCommand<Shown> {
  static override summary = 'Show one watcher with its last 20 check results.'
  static override examples = ['<%= config.bin %> <%= command.id %> wat_01JDX8Q4S1T6V0W7Y2Z3A4B5C6']
  static override args = {id: Args.string({description: 'Watcher id (wat_…)', required: true})}

  async run(): Promise<Shown> {
    const {args} = await this.parse(WatcherShow)
    const watcher = await this.client('watch', watchApi).watcherGet({id: args.id})
    this.say(renderWatcher(watcher))
    return watcher
  }
}
