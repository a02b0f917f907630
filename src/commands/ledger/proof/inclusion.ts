import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {agentdApi} from '../../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../../lib/cli/command.js'

type Proof = z.output<typeof agentdApi.ledgerProofInclusion.output>

export default class ProofInclusion extends OsmodaCommand<Proof> {
  static override summary = 'RFC 9162 inclusion proof of one event in a tree of a given size.'
  static override examples = ['<%= config.bin %> <%= command.id %> --seq 42 --size 1024 --json']
  static override flags = {
    seq: Flags.integer({description: 'Event seq', required: true, min: 1}),
    size: Flags.integer({description: 'Tree size (a checkpoint size)', required: true, min: 1}),
  }

  async run(): Promise<Proof> {
    const {flags} = await this.parse(ProofInclusion)
    const proof = await this.client('agentd', agentdApi).ledgerProofInclusion({seq: flags.seq, size: flags.size})
    this.say([`leaf ${proof.leaf_index} of ${proof.tree_size}: ${proof.leaf_hash}`, ...proof.hashes.map((h) => `  ${h}`)].join('\n'))
    return proof
  }
}
