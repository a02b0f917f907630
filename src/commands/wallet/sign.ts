import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {keydApi} from '../../daemons/keyd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {readJsonFile} from '../../lib/cli/wallet-params.js'

type Result = z.output<typeof keydApi.walletSign.output>

export default class WalletSign extends OsmodaCommand<Result> {
  static override summary = 'Sign a message with a wallet under the wallet policy.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> --wallet wal_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 --payload 0x68656c6c6f',
    '<%= config.bin %> <%= command.id %> --wallet wal_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 --message "hello" --json',
    '<%= config.bin %> <%= command.id %> --wallet wal_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 --typed-data permit.json',
  ]
  static override flags = {
    wallet: Flags.string({required: true, description: 'Wallet id (wal_…)'}),
    payload: Flags.string({description: '0x-hex bytes to sign (≤ 64 KiB)', exactlyOne: ['payload', 'message', 'typed-data']}),
    message: Flags.string({description: 'UTF-8 text to sign (instead of --payload)', exactlyOne: ['payload', 'message', 'typed-data']}),
    'typed-data': Flags.string({description: 'EIP-712 JSON file {types, primaryType, domain, message}', exactlyOne: ['payload', 'message', 'typed-data']}),
    scheme: Flags.option({options: ['eip191', 'eip712', 'solana_offchain', 'raw_digest'] as const, description: 'eip191 (Ethereum default), eip712 (with --typed-data), solana_offchain (Solana default) or raw_digest (gated by the default policy)'})(),
  }

  async run(): Promise<Result> {
    const {flags} = await this.parse(WalletSign)
    const typedData = flags['typed-data'] === undefined ? undefined : (readJsonFile(flags['typed-data'], 'typed data') as never)
    const payload = typedData ? undefined : (flags.payload ?? `0x${Buffer.from(flags.message ?? '', 'utf8').toString('hex')}`)
    const result = await this.client('keyd', keydApi).walletSign({wallet_id: flags.wallet, payload, typed_data: typedData, scheme: flags.scheme})
    this.say(result.signature)
    this.note(`${result.scheme} digest ${result.digest}; rules ${result.policy.rule_ids.join(', ') || '—'}`)
    return result
  }
}
