import {Args} from '@oclif/core'
import type {z} from 'zod'
import {agentdApi, type Receipt} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

export default class ReceiptShow extends OsmodaCommand<z.output<typeof Receipt>> {
  static override summary = 'Show one receipt with its recorded detail, seq and hash.'
  static override examples = ['<%= config.bin %> <%= command.id %> rcpt_812', '<%= config.bin %> <%= command.id %> rcpt_812 --json']
  static override args = {id: Args.string({description: 'Receipt id (rcpt_<seq>)', required: true})}

  async run(): Promise<z.output<typeof Receipt>> {
    const {args} = await this.parse(ReceiptShow)
    const receipt = await this.client('agentd', agentdApi).receiptGet({id: args.id})
    this.say(
      [
        `${receipt.id}  ${receipt.timestamp}  ${receipt.receipt_type}  ${receipt.actor}`,
        receipt.summary,
        `seq ${receipt.event_seq}  hash ${receipt.hash}`,
        `undo: ${receipt.undo_action ?? 'not reversible'}`,
        JSON.stringify(receipt.detail, null, 2),
      ].join('\n'),
    )
    return receipt
  }
}
