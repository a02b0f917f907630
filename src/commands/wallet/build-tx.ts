import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {keydApi} from '../../daemons/keyd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {parseChainParams} from '../../lib/cli/wallet-params.js'

type Result = z.output<typeof keydApi.walletBuildTx.output>

export default class WalletBuildTx extends OsmodaCommand<Result> {
  static override summary = 'Build and sign a transaction in base units (transfer, token_transfer, contract_call); nothing is broadcast.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> --wallet wal_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 --type transfer --to 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed --value 50000000000000000 --chain-param chain_id=1 --chain-param nonce=7',
    '<%= config.bin %> <%= command.id %> --wallet wal_… --type contract_call --to 0x… --value 0 --data 0xa9059cbb… --chain-param chain_id=8453 --chain-param nonce=2 --json',
    '<%= config.bin %> <%= command.id %> --wallet wal_… --type token_transfer --to <recipient base58> --token EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v --value 750000 --chain-param recent_blockhash=<base58> --chain-param decimals=6 --chain-param create_ata=true',
  ]
  static override flags = {
    wallet: Flags.string({required: true, description: 'Wallet id (wal_…)'}),
    type: Flags.option({options: ['transfer', 'token_transfer', 'contract_call'] as const, required: true, description: 'Transaction type'})(),
    to: Flags.string({required: true, description: 'Recipient (transfer, token_transfer) or contract (contract_call)'}),
    value: Flags.string({required: true, description: 'Amount in base units (wei / token units)'}),
    token: Flags.string({description: 'ERC-20 contract (token_transfer)'}),
    data: Flags.string({description: '0x call data (contract_call, ≤ 24 KiB)'}),
    'chain-param': Flags.string({multiple: true, required: true, description: 'key=value. Ethereum: chain_id and nonce (required), max_fee_per_gas, max_priority_fee_per_gas, gas_limit, access_list (JSON). Solana: recent_blockhash (required), compute_unit_limit, compute_unit_price_micro_lamports; SPL tokens: decimals (required), token_program, create_ata=true|false'}),
  }

  async run(): Promise<Result> {
    const {flags} = await this.parse(WalletBuildTx)
    const result = await this.client('keyd', keydApi).walletBuildTx({
      wallet_id: flags.wallet, tx_type: flags.type, to: flags.to, value: flags.value, token: flags.token, data: flags.data, chain_params: parseChainParams(flags['chain-param']) as never,
    })
    this.say(result.signed_tx)
    this.note(`tx ${result.tx_hash} (not broadcast); fee ≤ ${result.estimated_fee} ${result.fee_unit}`)
    return result
  }
}
