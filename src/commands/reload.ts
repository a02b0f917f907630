import {Args} from '@oclif/core'
import {OsmodaCommand} from '../lib/cli/command.js'
import {commonApi} from '../lib/daemon/common-api.js'
import {AVAILABLE_DAEMONS} from '../daemons/registry.js'

export default class Reload extends OsmodaCommand<{daemon: string; reloaded: boolean; changed: string[]}> {
  static override summary = "Make a running daemon re-read its config, token hashes and policy files (like SIGHUP)."
  static override examples = ['<%= config.bin %> <%= command.id %> agentd']
  static override args = {daemon: Args.string({description: 'Daemon to reload', required: true, options: AVAILABLE_DAEMONS})}

  async run(): Promise<{daemon: string; reloaded: boolean; changed: string[]}> {
    const {args} = await this.parse(Reload)
    const result = await this.client(args.daemon, commonApi).reload()
    this.say(result.changed.length ? `${args.daemon} reloaded; changed: ${result.changed.join(', ')}` : `${args.daemon} reloaded; nothing changed`)
    return {daemon: args.daemon, ...result}
  }
}
