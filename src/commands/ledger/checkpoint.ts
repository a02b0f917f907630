import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {agentdApi, type CheckpointOut} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {writeFileAtomic} from '../../lib/secure-file.js'

type Checkpoint = z.output<typeof CheckpointOut>

export default class LedgerCheckpoint extends OsmodaCommand<Checkpoint & {file: string | null}> {
  static override summary = 'Export a signed ledger checkpoint to keep off-host.'
  static override description = `A checkpoint is a C2SP signed note over the RFC 9162 Merkle root of the first N events.
Keep it somewhere the server cannot rewrite; later \`osmoda verify-ledger --checkpoint FILE\` proves that
no event up to N was changed or deleted, even if the whole table was re-chained.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --out ~/osmoda-checkpoint.note',
    '<%= config.bin %> <%= command.id %> --now --out cp.note',
    '<%= config.bin %> <%= command.id %> --size 1024 --json',
  ]
  static override flags = {
    size: Flags.integer({description: 'Tree size of the checkpoint (default: the latest)', min: 1, exclusive: ['now']}),
    now: Flags.boolean({description: 'Sign a checkpoint of the current head first'}),
    out: Flags.string({char: 'o', description: 'Write the signed note to this file (otherwise it is printed)'}),
  }

  async run(): Promise<Checkpoint & {file: string | null}> {
    const {flags} = await this.parse(LedgerCheckpoint)
    const agentd = this.client('agentd', agentdApi)
    const checkpoint = flags.now ? await agentd.ledgerCheckpointNow() : await agentd.ledgerCheckpoint({size: flags.size})
    if (flags.out) {
      writeFileAtomic(flags.out, checkpoint.note, 0o644)
      this.note(`wrote checkpoint of size ${checkpoint.size} to ${flags.out}`)
    } else {
      this.say(checkpoint.note.trimEnd())
    }
    return {...checkpoint, file: flags.out ?? null}
  }
}
