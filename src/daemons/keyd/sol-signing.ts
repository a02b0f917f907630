import type {z} from 'zod'
import {UsageError} from '../../lib/errors.js'
import type {RequestContext} from '../../lib/rpc/server.js'
import {parseBaseUnits} from './amounts.js'
import type {BuildTxInput} from './api.js'
import {base58Encode} from './base58.js'
import {ed25519Sign} from './chain-keys.js'
import type {KeydConfig} from './config.js'
import {parseSolAddress, solFee, solTransaction, solTransferMessage} from './solana.js'
import type {WalletRow} from './store.js'
import type {KeydService} from './wallet-service.js'

type BuildInput = z.output<typeof BuildTxInput>

/**
 * A native SOL transfer (System Transfer, optional ComputeBudget instructions) through the same
 * check-and-spend path as Ethereum. SPL token transfers are not built yet: 400.
 */
export function buildSolTransfer(service: KeydService, wallet: WalletRow, input: BuildInput, options: {ctx: Pick<RequestContext, 'role' | 'actor'>; via: 'build_tx' | 'send'; gateBody?: Record<string, unknown>; settings: KeydConfig}) {
  const p = input.chain_params
  if (!('recent_blockhash' in p)) throw new UsageError('Solana wallets need chain_params.recent_blockhash', {details: ['chain_params.recent_blockhash: required for Solana wallets']})
  if (input.tx_type !== 'transfer' || input.token !== undefined) throw new UsageError('only native SOL transfers are built for Solana wallets in this build (no SPL tokens, no contract calls)', {details: ['tx_type: only transfer for Solana wallets']})
  if (input.data !== undefined) throw new UsageError('data is only for Ethereum contract_call', {details: ['data: not for Solana']})
  const to = parseSolAddress(input.to, 'to')
  const from = parseSolAddress(wallet.address, 'from')
  if (Buffer.from(to).equals(Buffer.from(from))) throw new UsageError('to is the sending wallet itself', {details: ['to: must differ from the wallet address']})
  const blockhash = parseSolAddress(p.recent_blockhash, 'chain_params.recent_blockhash')
  const lamports = parseBaseUnits(input.value, 'value')
  const message = solTransferMessage({
    from, to, lamports, recentBlockhash: blockhash,
    computeUnitLimit: p.compute_unit_limit,
    computeUnitPriceMicroLamports: p.compute_unit_price_micro_lamports === undefined ? undefined : BigInt(p.compute_unit_price_micro_lamports),
  })
  const fee = solFee(1, p.compute_unit_limit ?? options.settings.solanaFeeDefaults.computeUnitLimit, BigInt(p.compute_unit_price_micro_lamports ?? options.settings.solanaFeeDefaults.computeUnitPriceMicroLamports))
  const {approval_id: approvalId, ...body} = input
  const toText = base58Encode(to)
  return service.guarded(
    {
      wallet,
      request: {wallet_id: wallet.id, chain: 'solana', chain_id: null, action: 'send', to: toText, asset: 'native', value: lamports, selector: null},
      gate: {operation: options.via === 'send' ? 'wallet_send' : 'wallet_build_tx', path: options.via === 'send' ? '/wallet/send' : '/wallet/build-tx', body: options.gateBody ?? body, summary: `transfer of ${lamports} lamports from ${wallet.label} (${wallet.address}) to ${toText} on Solana`},
      approvalId,
      receipt: {action: 'send', chain_id: null, to: toText, asset: 'native', value: lamports.toString()},
      sign: () => {
        const signature = service.withWalletKey(wallet, (seed) => ed25519Sign(seed, message))
        const tx = solTransaction(signature, message)
        return {
          wallet_id: wallet.id, chain: 'solana' as const, tx_type: 'transfer' as const, signed_tx: Buffer.from(tx).toString('base64'), encoding: 'base64' as const, tx_hash: base58Encode(signature),
          from: wallet.address, to: toText, value: lamports.toString(), asset: 'native', estimated_fee: fee.toString(), fee_unit: 'lamports' as const, rent_lamports: '0', nonce: null, chain_id: null,
        }
      },
      event: (r, approval, ruleIds) => ({type: 'wallet.tx_built', payload: {wallet_id: wallet.id, chain: 'solana', chain_id: null, tx_type: 'transfer', to: r.to, asset: 'native', value: r.value, tx_hash: r.tx_hash, rule_ids: ruleIds, approval_id: approval, via: options.via}}),
    },
    options.ctx,
  )
}
