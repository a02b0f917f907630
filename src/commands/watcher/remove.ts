import {Args} from '@oclif/core'
import type {z} from 'zod'
import {watchApi} from '../../daemons/watch/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Removed = z.output<typeof watchApi.watcherRemove.output>

export default class WatcherRemove extends OsmodaCommand<Removed> {
  static override summary = 'Remove a watcher; its timer stops at once.'
  static override examples = ['<%= config.bin %> <%= command.id %> wat_01JDX8Q4S1T6V0W7Y2Z3A4B5C6']
  static override args = {id: Args.string({description: 'Watcher id (wat_…)', required: true})}

  async run(): Promise<Removed> {
    const {args} = await this.parse(WatcherRemove)
    const removed = await this.client('watch', watchApi).watcherRemove({id: args.id})
    this.say(`removed ${removed.removed}`)
    return removed
  }
}
