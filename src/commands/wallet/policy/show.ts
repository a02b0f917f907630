import type {z} from 'zod'
import {keydApi} from '../../../daemons/keyd/api.js'
import {OsmodaCommand} from '../../../lib/cli/command.js'

type Result = z.output<typeof keydApi.walletPolicyGet.output>

export default class WalletPolicyShow extends OsmodaCommand<Result> {
  static override summary = 'Show the wallet policy keyd enforces.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<Result> {
    await this.parse(WalletPolicyShow)
    const result = await this.client('keyd', keydApi).walletPolicyGet()
    this.table(
      result.policy.rules.map((r) => ({id: r.id, effect: r.effect, actions: r.actions.join(','), max_per_tx: r.max_per_tx ?? '', window: r.window ? `${r.window.max_total ?? '∞'} / ${r.window.max_count ?? '∞'} per ${r.window.secs}s` : ''})),
      ['id', 'effect', 'actions', 'max_per_tx', 'window'],
    )
    this.note(`sha256 ${result.sha256}${result.mutable ? '' : ' (managed by Nix)'}`)
    return result
  }
}
