import type {z} from 'zod'
import {egressApi} from '../../daemons/egress/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {renderAllowlist} from '../../lib/cli/egress-view.js'

type Allowlist = z.output<typeof egressApi.allowlistGet.output>

export default class EgressAllowlist extends OsmodaCommand<Allowlist> {
  static override summary = 'Show the hosts, ports and private ranges egress allows.'
  static override description = 'Change them with `osmoda egress allowlist set`.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<Allowlist> {
    await this.parse(EgressAllowlist)
    const allowlist = await this.client('egress', egressApi).allowlistGet()
    this.say(renderAllowlist(allowlist))
    return allowlist
  }
}
