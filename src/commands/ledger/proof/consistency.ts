import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {agentdApi} from '../../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../../lib/cli/command.js'

type Proof = z.output<typeof agentdApi.ledgerProofConsistency.output>

export default class ProofConsistency extends OsmodaCommand<Proof> {
  static override summary = 'RFC 9162 consistency proof between two tree sizes (an older checkpoint and a newer one).'
  static override examples = ['<%= config.bin %> <%= command.id %> --old 512 --new 1024 --json']
  static override flags = {
    old: Flags.integer({description: 'Older tree size', required: true, min: 1}),
    new: Flags.integer({description: 'Newer tree size', required: true, min: 1}),
  }

  async run(): Promise<Proof> {
    const {flags} = await this.parse(ProofConsistency)
    const proof = await this.client('agentd', agentdApi).ledgerProofConsistency({old: flags.old, new: flags.new})
    this.say([`${proof.old_size} → ${proof.new_size}:`, ...proof.hashes.map((h) => `  ${h}`)].join('\n'))
    return proof
  }
}
