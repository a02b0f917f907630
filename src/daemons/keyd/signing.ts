import {createHash} from 'node:crypto'
import type {z} from 'zod'
import {UsageError} from '../../lib/errors.js'
import type {RequestContext} from '../../lib/rpc/server.js'
import {parseBaseUnits, wholeToBaseUnits} from './amounts.js'
import type {BuildTxInput, EthChainParams, EvaluateInput, SendInput, SignInput} from './api.js'
import {base58Encode} from './base58.js'
import {typedDataDigest} from './eip712.js'
import {buildSolTransfer} from './sol-signing.js'
import {offchainMessage, parseSolAddress} from './solana.js'
import {ed25519Sign} from './chain-keys.js'
import type {KeydConfig} from './config.js'
import {erc20TransferData, parseEthAddress, personalMessageHash, signatureRsv, signEip1559, toChecksumAddress, type Eip1559Fields} from './eth.js'
import type {PolicyAction} from './policy.js'
import type {KeydService} from './wallet-service.js'

type Ctx = Pick<RequestContext, 'role' | 'actor'>
type BuildInput = z.output<typeof BuildTxInput>
const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`
const bytes = (h: string) => Uint8Array.from(Buffer.from(h.slice(2), 'hex'))
const ACTION: Record<BuildInput['tx_type'], PolicyAction> = {transfer: 'send', token_transfer: 'token_transfer', contract_call: 'contract_call'}

type EthParams = z.output<typeof EthChainParams>

/** Narrows chain_params to the Ethereum shape (chain_id and nonce required). */
function ethParams(p: BuildInput['chain_params']): EthParams {
  if (!('chain_id' in p)) throw new UsageError('Ethereum wallets need chain_params.chain_id and nonce', {details: ['chain_params.chain_id: required for Ethereum wallets']})
  return p
}

/** The EIP-1559 fields of a build request; every input error is a 400 before anything is reserved. */
function ethFields(input: BuildInput, feeDefaults: KeydConfig['feeDefaults']): {fields: Eip1559Fields; recipient: Uint8Array; token: Uint8Array | null; value: bigint} {
  const p = ethParams(input.chain_params)
  const recipient = parseEthAddress(input.to, 'to')
  const token = input.token === undefined ? null : parseEthAddress(input.token, 'token')
  const value = parseBaseUnits(input.value, 'value')
  if (input.tx_type === 'token_transfer' && !token) throw new UsageError('token_transfer needs token (the ERC-20 contract)', {details: ['token: required for token_transfer']})
  if (input.tx_type !== 'token_transfer' && token) throw new UsageError('token is only for token_transfer', {details: ['token: only for token_transfer']})
  if (input.tx_type === 'contract_call' && (input.data === undefined || input.data.length < 10)) throw new UsageError('contract_call needs data of at least 4 bytes (the selector)', {details: ['data: required for contract_call (≥ 4 bytes)']})
  if (input.tx_type !== 'contract_call' && input.data !== undefined) throw new UsageError('data is only for contract_call', {details: ['data: only for contract_call']})
  const defaults = feeDefaults[String(p.chain_id)]
  const maxFee = p.max_fee_per_gas ?? defaults?.maxFeePerGas
  const tip = p.max_priority_fee_per_gas ?? defaults?.maxPriorityFeePerGas
  if (maxFee === undefined || tip === undefined) {
    throw new UsageError(`no fee defaults for chain id ${p.chain_id}: pass max_fee_per_gas and max_priority_fee_per_gas`, {details: ['chain_params.max_fee_per_gas: required for this chain id']})
  }
  const maxFeePerGas = parseBaseUnits(maxFee, 'chain_params.max_fee_per_gas')
  const maxPriorityFeePerGas = parseBaseUnits(tip, 'chain_params.max_priority_fee_per_gas')
  if (maxPriorityFeePerGas > maxFeePerGas) throw new UsageError('max_priority_fee_per_gas exceeds max_fee_per_gas', {details: ['chain_params.max_priority_fee_per_gas: must be ≤ max_fee_per_gas']})
  const gasLimit = BigInt(p.gas_limit ?? (input.tx_type === 'transfer' ? (defaults?.gasLimitTransfer ?? 21_000) : (defaults?.gasLimitToken ?? 65_000)))
  const accessList = (p.access_list ?? []).map((e, i) => ({address: parseEthAddress(e.address, `chain_params.access_list[${i}].address`), storageKeys: e.storage_keys.map(bytes)}))
  const fields: Eip1559Fields = {
    chainId: BigInt(p.chain_id),
    nonce: BigInt(p.nonce),
    maxPriorityFeePerGas,
    maxFeePerGas,
    gasLimit,
    to: token ?? recipient,
    value: token ? 0n : value,
    data: token ? erc20TransferData(recipient, value) : input.data ? bytes(input.data) : new Uint8Array(0),
    accessList,
  }
  return {fields, recipient, token, value}
}

/** wallet_build_tx, wallet_send and wallet_sign on top of the service's check-and-spend path. */
export function createSigning(service: KeydService, settings: () => KeydConfig) {
  const buildTx = async (input: BuildInput, ctx: Ctx, via: 'build_tx' | 'send', gateBody?: Record<string, unknown>) => {
    const wallet = service.requireWallet(input.wallet_id)
    if (wallet.chain === 'solana') return buildSolTransfer(service, wallet, input, {ctx, via, gateBody, settings: settings()})
    const params = ethParams(input.chain_params)
    const {fields, recipient, token, value} = ethFields(input, settings().feeDefaults)
    const to = hex(recipient)
    const asset = token ? hex(token) : 'native'
    const {approval_id: approvalId, ...body} = input
    const chainId = params.chain_id
    const what = input.tx_type === 'token_transfer' ? `${value} units of token ${toChecksumAddress(token as Uint8Array)}` : `${value} wei`
    return service.guarded(
      {
        wallet,
        request: {wallet_id: wallet.id, chain: 'ethereum', chain_id: chainId, action: ACTION[input.tx_type], to, asset, value, selector: input.tx_type === 'contract_call' ? hex(fields.data.subarray(0, 4)) : null},
        gate: {operation: via === 'send' ? 'wallet_send' : 'wallet_build_tx', path: via === 'send' ? '/wallet/send' : '/wallet/build-tx', body: gateBody ?? body, summary: `${input.tx_type} of ${what} from ${wallet.label} (${wallet.address}) to ${toChecksumAddress(recipient)} on chain ${chainId}`},
        approvalId,
        receipt: {action: ACTION[input.tx_type], chain_id: chainId, to, asset, value: value.toString()},
        sign: () => {
          const signed = service.withWalletKey(wallet, (secret) => signEip1559(fields, secret))
          return {
            wallet_id: wallet.id, chain: 'ethereum' as const, tx_type: input.tx_type, signed_tx: hex(signed.raw), encoding: 'hex' as const, tx_hash: hex(signed.hash), from: wallet.address,
            to: toChecksumAddress(recipient), value: value.toString(), asset: token ? toChecksumAddress(token) : 'native', estimated_fee: (fields.gasLimit * fields.maxFeePerGas).toString(),
            fee_unit: 'wei' as const, rent_lamports: null, nonce: params.nonce, chain_id: chainId,
          }
        },
        event: (r, approval, ruleIds) => ({type: 'wallet.tx_built', payload: {wallet_id: wallet.id, chain: 'ethereum', chain_id: chainId, tx_type: input.tx_type, to: r.to, asset: r.asset, value: r.value, tx_hash: r.tx_hash, rule_ids: ruleIds, approval_id: approval, via}}),
      },
      ctx,
    )
  }

  return {
    buildTx: (input: BuildInput, ctx: Ctx) => buildTx(input, ctx, 'build_tx'),
    /** wallet_send: whole units → base units (18 decimals for ETH, 9 for SOL, chain_params.decimals for tokens), then as build-tx. */
    async send(input: z.output<typeof SendInput>, ctx: Ctx) {
      const solana = service.requireWallet(input.wallet_id).chain === 'solana'
      const native = solana ? 9 : 18
      const decimals = input.token === undefined ? native : 'decimals' in input.chain_params ? input.chain_params.decimals : undefined
      if (decimals === undefined) throw new UsageError('sending a token needs chain_params.decimals', {details: ['chain_params.decimals: required with token']})
      const {amount, approval_id: approvalId, ...rest} = input
      const gateBody = {...rest, amount}
      // TransferChecked carries the mint's decimals, so Solana keeps them; an EVM transaction has no such field.
      const {decimals: _unused, ...ethChainParams} = rest.chain_params as EthParams
      const chainParams = solana ? rest.chain_params : ethChainParams
      const value = wholeToBaseUnits(amount, decimals).toString()
      return buildTx({...rest, chain_params: chainParams, tx_type: input.token === undefined ? 'transfer' : 'token_transfer', value, approval_id: approvalId}, ctx, 'send', gateBody)
    },
    async sign(input: z.output<typeof SignInput>, ctx: Ctx) {
      const wallet = service.requireWallet(input.wallet_id)
      const scheme = input.scheme ?? (wallet.chain === 'ethereum' ? (input.typed_data ? 'eip712' : 'eip191') : 'solana_offchain')
      const solanaScheme = scheme === 'solana_offchain' || scheme === 'raw_digest'
      const ethScheme = scheme !== 'solana_offchain'
      if (!(wallet.chain === 'solana' ? solanaScheme : ethScheme)) throw new UsageError(`${scheme} does not apply to ${wallet.chain} wallets`, {details: [`scheme: ${scheme} needs ${wallet.chain === 'solana' ? 'an Ethereum' : 'a Solana'} wallet`]})
      if ((scheme === 'eip712') !== (input.typed_data !== undefined)) throw new UsageError('typed_data goes with scheme eip712 (and only with it)', {details: ['typed_data: required for eip712, not allowed otherwise']})
      if ((scheme === 'eip712') === (input.payload !== undefined)) throw new UsageError(scheme === 'eip712' ? 'eip712 signs typed_data, not payload' : `${scheme} needs payload`, {details: [`payload: ${scheme === 'eip712' ? 'not allowed with eip712' : 'required'}`]})
      const payload = input.payload === undefined ? new Uint8Array(0) : bytes(input.payload)
      if (scheme === 'raw_digest' && wallet.chain === 'ethereum' && payload.length !== 32) throw new UsageError('raw_digest on Ethereum signs exactly 32 bytes', {details: ['payload: must be 32 bytes for raw_digest']})
      if (scheme === 'raw_digest' && wallet.chain === 'solana' && (payload.length === 0 || payload.length > 1232)) throw new UsageError('raw_digest on Solana signs 1..1232 bytes', {details: ['payload: 1..1232 bytes']})
      const signed = scheme === 'solana_offchain' ? offchainMessage(parseSolAddress(wallet.address, 'wallet'), payload) : payload
      const digest =
        wallet.chain === 'solana' ? createHash('sha256').update(signed).digest() : scheme === 'eip712' ? typedDataDigest(input.typed_data as NonNullable<typeof input.typed_data>) : scheme === 'eip191' ? personalMessageHash(payload) : payload
      const {approval_id: approvalId, ...body} = input
      return service.guarded(
        {
          wallet,
          request: {wallet_id: wallet.id, chain: wallet.chain, chain_id: null, action: scheme === 'raw_digest' ? 'sign_raw' : 'sign', to: null, asset: null, value: 0n, selector: null},
          gate: {operation: 'wallet_sign', path: '/wallet/sign', body: {...body, scheme}, summary: `Sign ${scheme === 'eip712' ? `typed data ${input.typed_data?.primaryType}` : `${payload.length} bytes`} (${scheme}) with ${wallet.label} (${wallet.address}); digest ${hex(digest)}`},
          approvalId,
          receipt: {action: 'sign', chain_id: null, to: null, asset: null, value: null},
          sign: () => {
            if (wallet.chain === 'solana') {
              const signature = service.withWalletKey(wallet, (seed) => ed25519Sign(seed, signed))
              return {wallet_id: wallet.id, scheme, signature: base58Encode(signature), recovery_id: null, digest: hex(digest)}
            }
            const {signature, recovery} = service.withWalletKey(wallet, (secret) => signatureRsv(digest, secret))
            return {wallet_id: wallet.id, scheme, signature: hex(signature), recovery_id: recovery, digest: hex(digest)}
          },
          event: (r, approval, ruleIds) => ({type: 'wallet.signed', payload: {wallet_id: wallet.id, scheme, digest: r.digest, rule_ids: ruleIds, approval_id: approval}}),
        },
        ctx,
      )
    },
    evaluate(input: z.output<typeof EvaluateInput>) {
      const wallet = service.requireWallet(input.wallet_id)
      const norm = (a: string | undefined, field: string) => (a === undefined ? null : wallet.chain === 'ethereum' && a !== 'native' ? hex(parseEthAddress(a, field)) : a)
      const asset = norm(input.asset, 'asset') ?? (input.action === 'send' ? 'native' : null)
      return service.evaluate({wallet_id: wallet.id, chain: wallet.chain, chain_id: input.chain_id ?? null, action: input.action, to: norm(input.to, 'to'), asset, value: parseBaseUnits(input.value, 'value'), selector: null})
    },
  }
}
