import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {keydApi} from '../../daemons/keyd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {parseChainParams} from '../../lib/cli/wallet-params.js'

type Result = z.output<typeof keydApi.walletSend.output>

export default class WalletSend extends OsmodaCommand<Result> {
  static override summary = 'Sign a transfer in whole units (ETH, SOL, or an ERC-20/SPL token with decimals); nothing is broadcast.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> --wallet wal_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 --to 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed --amount 0.05 --chain-param chain_id=1 --chain-param nonce=7',
    '<%= config.bin %> <%= command.id %> --wallet wal_… --to 0x… --amount 12.5 --token 0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48 --chain-param chain_id=1 --chain-param nonce=8 --chain-param decimals=6 --json',
    '<%= config.bin %> <%= command.id %> --wallet wal_… --to <recipient base58> --amount 1.5 --chain-param recent_blockhash=<base58> --chain-param compute_unit_price_micro_lamports=1000',
  ]
  static override flags = {
    wallet: Flags.string({required: true, description: 'Wallet id (wal_…)'}),
    to: Flags.string({required: true, description: 'Recipient address'}),
    amount: Flags.string({required: true, description: 'Amount in whole units, e.g. 0.05'}),
    token: Flags.string({description: 'ERC-20 contract to transfer instead of the native coin'}),
    'chain-param': Flags.string({multiple: true, required: true, description: 'key=value. Ethereum: chain_id and nonce (required), max_fee_per_gas, max_priority_fee_per_gas, gas_limit, decimals (tokens). Solana: recent_blockhash (required), compute_unit_limit, compute_unit_price_micro_lamports; SPL tokens: decimals (required), token_program, create_ata=true|false'}),
  }

  async run(): Promise<Result> {
    const {flags} = await this.parse(WalletSend)
    const result = await this.client('keyd', keydApi).walletSend({wallet_id: flags.wallet, to: flags.to, amount: flags.amount, token: flags.token, chain_params: parseChainParams(flags['chain-param']) as never})
    this.say(result.signed_tx)
    this.note(`tx ${result.tx_hash} (not broadcast); fee ≤ ${result.estimated_fee} ${result.fee_unit}`)
    return result
  }
}
