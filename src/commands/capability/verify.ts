import {Args, Flags} from '@oclif/core'
import type {z} from 'zod'
import {agentdApi} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {VerificationError} from '../../lib/errors.js'

type Verdict = z.output<typeof agentdApi.capabilityVerify.output>

export default class CapabilityVerify extends OsmodaCommand<Verdict> {
  static override summary = 'Check a capability token: signature, audience, lifetime and revocation.'
  static override description = 'Exits 0 when the token is valid for the audience, 5 (VERIFICATION_FAILED, the verdict in details) when it is not.'
  static override examples = ['<%= config.bin %> <%= command.id %> osmcap1.eyJ….AbC --audience egress', '<%= config.bin %> <%= command.id %> "$TOKEN" --audience sandbox --json']
  static override args = {token: Args.string({description: 'The osmcap1 token', required: true})}
  static override flags = {
    audience: Flags.option({options: ['egress', 'sandbox'] as const, description: 'Who the token is presented to', required: true})(),
  }

  async run(): Promise<Verdict> {
    const {args, flags} = await this.parse(CapabilityVerify)
    const verdict = await this.client('agentd', agentdApi).capabilityVerify({token: args.token, audience: flags.audience})
    if (!verdict.valid) {
      throw new VerificationError(`token is not valid for ${flags.audience}: ${verdict.reason}${verdict.token_id ? ` (${verdict.token_id})` : ''}`, {details: verdict})
    }
    this.say(`valid: ${verdict.token_id} for ${verdict.granted_to} until ${verdict.expires_at}; ${verdict.permissions?.join(' ')}`)
    return verdict
  }
}
