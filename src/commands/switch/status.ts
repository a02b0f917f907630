import {Args} from '@oclif/core'
import {watchApi, type SwitchSession} from '../../daemons/watch/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {renderSwitch} from '../../lib/cli/switch-view.js'

export default class SwitchStatus extends OsmodaCommand<SwitchSession> {
  static override summary = 'Show a SafeSwitch session: state, deadlines, systems and the last health checks.'
  static override examples = ['<%= config.bin %> <%= command.id %> sw_01JDX8Q4S1T6V0W7Y2Z3A4B5C6', '<%= config.bin %> <%= command.id %> sw_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 --json']
  static override args = {id: Args.string({description: 'Switch id (sw_…)', required: true})}

  async run(): Promise<SwitchSession> {
    const {args} = await this.parse(SwitchStatus)
    const session = await this.client('watch', watchApi).switchGet({id: args.id})
    this.say(renderSwitch(session))
    return session
  }
}
