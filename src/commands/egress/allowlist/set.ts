import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {egressApi} from '../../../daemons/egress/api.js'
import {OsmodaCommand} from '../../../lib/cli/command.js'
import {renderAllowlist} from '../../../lib/cli/egress-view.js'

type Allowlist = z.output<typeof egressApi.allowlistPut.output>

export default class EgressAllowlistSet extends OsmodaCommand<Allowlist> {
  static override summary = "Replace egress's allowlist (operator only); it applies to the next CONNECT."
  static override description = `--allow replaces the hosts reachable without a token (exact names or *.suffix); --port and --private-cidr
replace the allowed ports and the private ranges opened on purpose, and keep their current values when omitted.
Stored in <state>/egress/allowlist.json; agentd also reads it to decide which capability mints need an approval.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --allow github.com --allow "*.nixos.org" --port 443',
    '<%= config.bin %> <%= command.id %> --allow registry.lan --port 443 --port 8443 --private-cidr 10.1.2.0/24',
  ]
  static override flags = {
    allow: Flags.string({description: 'A host allowed without a token (repeat; at most 256)', required: true, multiple: true}),
    port: Flags.integer({description: 'An allowed port (repeat)', multiple: true, min: 1, max: 65_535}),
    'private-cidr': Flags.string({description: 'A private range to open, e.g. 10.1.2.0/24 (repeat)', multiple: true}),
  }

  async run(): Promise<Allowlist> {
    const {flags} = await this.parse(EgressAllowlistSet)
    const allowlist = await this.client('egress', egressApi).allowlistPut({default_allow: flags.allow, allowed_ports: flags.port, allow_private_cidrs: flags['private-cidr']})
    this.say(renderAllowlist(allowlist))
    return allowlist
  }
}
