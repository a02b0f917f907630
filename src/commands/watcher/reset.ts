import {Args} from '@oclif/core'
import type {Watcher} from '../../daemons/watch/watcher-api.js'
import {watchApi} from '../../daemons/watch/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {renderWatcher} from '../../lib/cli/watcher-view.js'

export default class WatcherReset extends OsmodaCommand<Watcher> {
  static override summary = 'Reset a watcher to healthy: clears its ladder and closes its circuit breaker.'
  static override examples = ['<%= config.bin %> <%= command.id %> wat_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 --json']
  static override args = {id: Args.string({description: 'Watcher id (wat_…)', required: true})}

  async run(): Promise<Watcher> {
    const {args} = await this.parse(WatcherReset)
    const watcher = await this.client('watch', watchApi).watcherReset({id: args.id})
    this.say(renderWatcher(watcher))
    return watcher
  }
}
