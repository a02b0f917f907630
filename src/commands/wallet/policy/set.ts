import {Args} from '@oclif/core'
import type {z} from 'zod'
import {keydApi} from '../../../daemons/keyd/api.js'
import {OsmodaCommand} from '../../../lib/cli/command.js'
import {readJsonFile} from '../../../lib/cli/wallet-params.js'

type Result = z.output<typeof keydApi.walletPolicyPut.output>

export default class WalletPolicySet extends OsmodaCommand<Result> {
  static override summary = 'Replace the wallet policy from a JSON file (validated, atomic, applied at once).'
  static override examples = ['<%= config.bin %> <%= command.id %> policy.json']
  static override args = {file: Args.string({description: 'Policy JSON {version: 1, default_effect: "deny", rules: […]}', required: true})}

  async run(): Promise<Result> {
    const {args} = await this.parse(WalletPolicySet)
    const result = await this.client('keyd', keydApi).walletPolicyPut({policy: readJsonFile(args.file, 'policy') as never})
    this.say(`policy applied: ${result.policy.rules.length} rules, sha256 ${result.sha256}`)
    return result
  }
}
