import {Args, Flags} from '@oclif/core'
import {watchApi, type SwitchSession} from '../../daemons/watch/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {renderSwitch} from '../../lib/cli/switch-view.js'

export default class SwitchRollback extends OsmodaCommand<SwitchSession> {
  static override summary = 'Roll a switch in probation back to its recorded previous system now; waits until the rollback has finished.'
  static override examples = ['<%= config.bin %> <%= command.id %> sw_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 --reason "latency doubled"']
  static override args = {id: Args.string({description: 'Switch id (sw_…)', required: true})}
  static override flags = {reason: Flags.string({description: 'Why (at most 500 characters), recorded in the ledger'})}

  async run(): Promise<SwitchSession> {
    const {args, flags} = await this.parse(SwitchRollback)
    // The route answers once the rollback is done: allow for a full activation.
    const session = await this.client('watch', watchApi).switchRollback({id: args.id, reason: flags.reason}, {timeoutMs: 660_000})
    this.say(renderSwitch(session))
    return session
  }
}
