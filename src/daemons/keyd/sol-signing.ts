import type {z} from 'zod'
import {UsageError} from '../../lib/errors.js'
import type {RequestContext} from '../../lib/rpc/server.js'
import {parseBaseUnits} from './amounts.js'
import type {BuildTxInput} from './api.js'
import {base58Encode} from './base58.js'
import {ed25519Sign} from './chain-keys.js'
import type {KeydConfig} from './config.js'
import {parseSolAddress, solFee, solTransaction, solTransferMessage} from './solana.js'
import {parseTokenProgram, splTransferMessage} from './spl.js'
import type {WalletRow} from './store.js'
import type {KeydService} from './wallet-service.js'

type BuildInput = z.output<typeof BuildTxInput>

/**
 * Solana builds: a native SOL transfer (System Transfer) or an SPL TransferChecked between
 * associated token accounts, each optionally preceded by ComputeBudget instructions, through the
 * same check-and-spend path as Ethereum. The policy sees the recipient wallet (not its ATA), the
 * mint as the asset, and the amount in the mint's base units.
 */
export function buildSolTransfer(service: KeydService, wallet: WalletRow, input: BuildInput, options: {ctx: Pick<RequestContext, 'role' | 'actor'>; via: 'build_tx' | 'send'; gateBody?: Record<string, unknown>; settings: KeydConfig}) {
  const p = input.chain_params
  if (!('recent_blockhash' in p)) throw new UsageError('Solana wallets need chain_params.recent_blockhash', {details: ['chain_params.recent_blockhash: required for Solana wallets']})
  if (input.tx_type === 'contract_call') throw new UsageError('contract_call is for Ethereum wallets; Solana wallets build transfer or token_transfer', {details: ['tx_type: contract_call is Ethereum only']})
  if (input.data !== undefined) throw new UsageError('data is only for Ethereum contract_call', {details: ['data: not for Solana']})
  const token = input.tx_type === 'token_transfer'
  if (token && input.token === undefined) throw new UsageError('token_transfer needs token (the SPL mint)', {details: ['token: required for token_transfer']})
  if (!token && input.token !== undefined) throw new UsageError('token is only for token_transfer', {details: ['token: only for token_transfer']})
  if (token && p.decimals === undefined) throw new UsageError("SPL token transfers need chain_params.decimals (the mint's decimals)", {details: ['chain_params.decimals: required for SPL token transfers']})
  if (!token && (p.decimals !== undefined || p.token_program !== undefined || p.create_ata !== undefined)) {
    throw new UsageError('decimals, token_program and create_ata are for SPL token transfers', {details: ['chain_params: decimals, token_program, create_ata only with token_transfer']})
  }
  const to = parseSolAddress(input.to, 'to')
  const from = parseSolAddress(wallet.address, 'from')
  if (Buffer.from(to).equals(Buffer.from(from))) throw new UsageError('to is the sending wallet itself', {details: ['to: must differ from the wallet address']})
  const blockhash = parseSolAddress(p.recent_blockhash, 'chain_params.recent_blockhash')
  const value = parseBaseUnits(input.value, 'value')
  if (value >= 1n << 64n) throw new UsageError(`value overflows u64 ${token ? 'token units' : 'lamports'}`, {details: ['value: overflows u64']})
  const budget = {
    computeUnitLimit: p.compute_unit_limit,
    computeUnitPriceMicroLamports: p.compute_unit_price_micro_lamports === undefined ? undefined : BigInt(p.compute_unit_price_micro_lamports),
  }
  const mint = token ? parseSolAddress(input.token as string, 'token') : null
  const built = mint
    ? splTransferMessage({owner: from, mint, recipient: to, amount: value, decimals: p.decimals as number, tokenProgram: parseTokenProgram(p.token_program), createAta: p.create_ata ?? false, recentBlockhash: blockhash, ...budget})
    : {message: solTransferMessage({from, to, lamports: value, recentBlockhash: blockhash, ...budget}), rentLamports: 0n}
  const fee = solFee(1, p.compute_unit_limit ?? options.settings.solanaFeeDefaults.computeUnitLimit, BigInt(p.compute_unit_price_micro_lamports ?? options.settings.solanaFeeDefaults.computeUnitPriceMicroLamports))
  const {approval_id: approvalId, ...body} = input
  const toText = base58Encode(to)
  const asset = mint ? base58Encode(mint) : 'native'
  const action = token ? 'token_transfer' : 'send'
  const what = mint ? `${value} base units of mint ${asset}` : `${value} lamports`
  return service.guarded(
    {
      wallet,
      request: {wallet_id: wallet.id, chain: 'solana', chain_id: null, action, to: toText, asset, value, selector: null},
      gate: {operation: options.via === 'send' ? 'wallet_send' : 'wallet_build_tx', path: options.via === 'send' ? '/wallet/send' : '/wallet/build-tx', body: options.gateBody ?? body, summary: `${input.tx_type} of ${what} from ${wallet.label} (${wallet.address}) to ${toText} on Solana`},
      approvalId,
      receipt: {action, chain_id: null, to: toText, asset, value: value.toString()},
      sign: () => {
        const signature = service.withWalletKey(wallet, (seed) => ed25519Sign(seed, built.message))
        const tx = solTransaction(signature, built.message)
        return {
          wallet_id: wallet.id, chain: 'solana' as const, tx_type: input.tx_type, signed_tx: Buffer.from(tx).toString('base64'), encoding: 'base64' as const, tx_hash: base58Encode(signature),
          from: wallet.address, to: toText, value: value.toString(), asset, estimated_fee: fee.toString(), fee_unit: 'lamports' as const, rent_lamports: built.rentLamports.toString(), nonce: null, chain_id: null,
        }
      },
      event: (r, approval, ruleIds) => ({type: 'wallet.tx_built', payload: {wallet_id: wallet.id, chain: 'solana', chain_id: null, tx_type: input.tx_type, to: r.to, asset, value: r.value, tx_hash: r.tx_hash, rule_ids: ruleIds, approval_id: approval, via: options.via}}),
    },
    options.ctx,
  )
}
