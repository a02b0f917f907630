import type {ReloadResult} from '../../lib/daemon/runtime.js'
import type {Handlers} from '../../lib/rpc/server.js'
import type {z} from 'zod'
import type {KeydApi, KeydHealth} from './api.js'
import type {PolicyHolder} from './policy-file.js'
import type {createSigning} from './signing.js'
import type {KeydService} from './wallet-service.js'

/** Binds keyd's route table to its services; no logic lives here. */
export function keydHandlers(deps: {
  health: () => Promise<z.input<typeof KeydHealth>>
  reload: () => Promise<ReloadResult>
  service: KeydService
  signing: ReturnType<typeof createSigning>
  policy: PolicyHolder
  onPolicyChanged: (sha256: string, actor: string) => void
}): Handlers<KeydApi> {
  const {service, signing, policy} = deps
  return {
    health: () => deps.health(),
    reload: () => deps.reload(),
    walletCreate: (input, ctx) => service.createWallet(input, ctx),
    walletList: (input) => service.listWallets(input.chain),
    walletSign: (input, ctx) => signing.sign(input, ctx),
    walletSend: (input, ctx) => signing.send(input, ctx),
    walletBuildTx: (input, ctx) => signing.buildTx(input, ctx),
    walletDelete: (input, ctx) => service.deleteWallet(input, ctx),
    walletReceipts: (input) => service.receipts(input),
    walletPolicyGet: () => ({...policy.get(), mutable: policy.mutable}),
    walletPolicyPut: (input, ctx) => {
      const loaded = policy.set(input.policy)
      deps.onPolicyChanged(loaded.sha256, ctx.actor)
      return loaded
    },
    walletPolicyEvaluate: (input) => signing.evaluate(input),
  }
}
