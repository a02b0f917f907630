import {Args} from '@oclif/core'
import {z} from 'zod'
import {OsmodaCommand} from '../lib/cli/command.js'
import {route} from '../lib/rpc/route.js'
import {AVAILABLE_DAEMONS} from '../daemons/registry.js'

// Every daemon serves POST /reload with the same contract (SPEC §1.13).
const reloadOnly = {reload: route('POST', '/reload', {output: z.object({reloaded: z.boolean(), changed: z.array(z.string())}), roles: ['operator']})}

export default class Reload extends OsmodaCommand<{daemon: string; reloaded: boolean; changed: string[]}> {
  static override summary = "Make a running daemon re-read its config, token hashes and policy files (like SIGHUP)."
  static override examples = ['<%= config.bin %> <%= command.id %> agentd']
  static override args = {daemon: Args.string({description: 'Daemon to reload', required: true, options: AVAILABLE_DAEMONS})}

  async run(): Promise<{daemon: string; reloaded: boolean; changed: string[]}> {
    const {args} = await this.parse(Reload)
    const result = await this.client(args.daemon, reloadOnly).reload()
    this.say(result.changed.length ? `${args.daemon} reloaded; changed: ${result.changed.join(', ')}` : `${args.daemon} reloaded; nothing changed`)
    return {daemon: args.daemon, ...result}
  }
}
