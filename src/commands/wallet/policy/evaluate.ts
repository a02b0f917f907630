import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {keydApi} from '../../../daemons/keyd/api.js'
import {POLICY_ACTIONS} from '../../../daemons/keyd/policy.js'
import {OsmodaCommand} from '../../../lib/cli/command.js'

type Result = z.output<typeof keydApi.walletPolicyEvaluate.output>

export default class WalletPolicyEvaluate extends OsmodaCommand<Result> {
  static override summary = 'Dry-run the wallet policy for an action (reserves nothing).'
  static override examples = ['<%= config.bin %> <%= command.id %> --wallet wal_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 --action send --to 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed --value 1000000000000000000']
  static override flags = {
    wallet: Flags.string({required: true, description: 'Wallet id (wal_…)'}),
    action: Flags.option({options: POLICY_ACTIONS, required: true, description: 'Policy action'})(),
    to: Flags.string({description: 'Destination address'}),
    asset: Flags.string({description: '"native" or a token contract'}),
    value: Flags.string({description: 'Amount in base units (default 0)'}),
    'chain-id': Flags.integer({description: 'EVM chain id'}),
  }

  async run(): Promise<Result> {
    const {flags} = await this.parse(WalletPolicyEvaluate)
    const result = await this.client('keyd', keydApi).walletPolicyEvaluate({wallet_id: flags.wallet, action: flags.action, to: flags.to, asset: flags.asset, value: flags.value, chain_id: flags['chain-id']})
    this.say(`${result.decision}${result.rule_ids.length ? ` (rules ${result.rule_ids.join(', ')})` : ''}: ${result.reasons.join('; ')}`)
    for (const u of result.window_usage) this.note(`${u.rule_id}: ${u.count}${u.max_count ? `/${u.max_count}` : ''} ops, ${u.total}${u.max_total ? `/${u.max_total}` : ''} in ${u.window_secs}s`)
    return result
  }
}
