import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {agentdApi} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Minted = z.output<typeof agentdApi.capabilityMint.output>

export default class CapabilityMint extends OsmodaCommand<Minted> {
  static override summary = 'Mint a capability token for a tier-1 sandbox or an egress client.'
  static override description = `Permissions: net:<host>[:<port>] (exact host or *.suffix, port 443 by default), fs:read:<abs path>,
fs:write:<abs path>. The token is printed once; revoke it with \`osmoda capability revoke <id>\`.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --to sandbox:build --perm net:github.com --perm fs:read:/srv/src',
    '<%= config.bin %> <%= command.id %> --to mcp:registry --perm net:registry.lan:8443 --ttl 3600 --json',
  ]
  static override flags = {
    to: Flags.string({description: 'Who holds the token, e.g. sandbox:build (1..128 characters)', required: true}),
    perm: Flags.string({description: 'A permission (repeat for more, at most 64)', required: true, multiple: true}),
    ttl: Flags.integer({description: 'Lifetime in seconds (60..86400; default capability.defaultTtlSecs, 900)'}),
  }

  async run(): Promise<Minted> {
    const {flags} = await this.parse(CapabilityMint)
    const minted = await this.client('agentd', agentdApi).capabilityMint({granted_to: flags.to, permissions: flags.perm, ttl_secs: flags.ttl})
    this.note(`minted ${minted.id} for ${minted.granted_to}, expires ${minted.expires_at}`)
    this.say(minted.token)
    return minted
  }
}
