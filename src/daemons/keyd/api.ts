import {z} from 'zod'
import {route} from '../../lib/rpc/route.js'
import {HealthBase, IsoTime, limit} from '../../lib/schema/primitives.js'
import {ReloadOutput} from '../../lib/daemon/common-api.js'
import {BaseUnits, CHAINS, POLICY_ACTIONS, Policy} from './policy.js'
import {TypedData} from './eip712.js'

const O = ['operator'] as const
const OA = ['operator', 'agent'] as const

/** `wal_` + ULID. */
export const WalletId = z.string().regex(/^wal_[0-7][0-9A-HJKMNP-TV-Z]{25}$/, 'expected wal_ followed by a 26-character ULID')
/** `op_` + ULID. */
export const OperationId = z.string().regex(/^op_[0-7][0-9A-HJKMNP-TV-Z]{25}$/, 'expected op_ followed by a 26-character ULID')
/** A chain keyd holds keys for. */
export const Chain = z.enum(CHAINS)

const ApprovalIdInput = z.string().max(64).nullable().optional().describe('The approved approval id when repeating a call that returned APPROVAL_REQUIRED')
const Address = z.string().min(1).max(64)
const HexData = (maxBytes: number) =>
  z
    .string()
    .regex(/^0x([0-9a-fA-F]{2})*$/, 'expected 0x-prefixed hex with an even number of digits')
    .max(2 + maxBytes * 2, `at most ${maxBytes} bytes`)

/** A wallet (never its key). */
export const Wallet = z.object({id: WalletId, chain: Chain, address: z.string(), label: z.string(), created_at: IsoTime})

const PolicyVerdict = z.object({decision: z.enum(['allowed', 'approval_required']), rule_ids: z.array(z.string())})

/** EVM `chain_params`: chain id and nonce are required (no silent defaults). */
export const EthChainParams = z.strictObject({
  chain_id: z.number().int().min(1).max(2 ** 53 - 1).describe('EIP-155 chain id, e.g. 1 mainnet, 8453 Base, 11155111 Sepolia'),
  nonce: z.number().int().min(0).max(2 ** 53 - 1).describe('The sender account nonce (keyd is offline and cannot look it up)'),
  max_fee_per_gas: BaseUnits.optional().describe('wei; default from keyd feeDefaults for the chain'),
  max_priority_fee_per_gas: BaseUnits.optional().describe('wei; default from keyd feeDefaults for the chain'),
  gas_limit: z.number().int().min(21_000).max(30_000_000).optional().describe('default 21000 for transfers, 65000 for token transfers'),
  access_list: z
    .array(z.strictObject({address: Address, storage_keys: z.array(z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected a 32-byte hex storage key')).max(64)}))
    .max(32)
    .optional()
    .describe('EIP-2930 access list (default empty)'),
  decimals: z.number().int().min(0).max(36).optional().describe('Token decimals (wallet_send with token only)'),
})

/** Solana `chain_params`: the recent blockhash is required (keyd is offline). */
export const SolChainParams = z.strictObject({
  recent_blockhash: z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, 'expected a base58 blockhash').describe('A recent blockhash (from getLatestBlockhash); the transaction expires with it'),
  compute_unit_limit: z.number().int().min(1).max(1_400_000).optional().describe('ComputeBudget SetComputeUnitLimit (default from feeDefaults: 200000)'),
  compute_unit_price_micro_lamports: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional().describe('ComputeBudget SetComputeUnitPrice in micro-lamports per unit (default 0: no priority fee)'),
  decimals: z.number().int().min(0).max(255).optional().describe("The mint's decimals (SPL token transfers: required; TransferChecked fails on-chain if wrong)"),
  token_program: z.string().max(64).optional().describe('SPL token transfers: TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA (default) or Token-2022 TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb'),
  create_ata: z.boolean().optional().describe("SPL token transfers: prepend CreateIdempotent for the recipient's associated token account (rent reported in rent_lamports; default false)"),
})

const ChainParams = z.union([EthChainParams, SolChainParams])

const TxOutput = z.object({
  wallet_id: WalletId,
  chain: Chain,
  tx_type: z.enum(['transfer', 'token_transfer', 'contract_call']),
  signed_tx: z.string(),
  encoding: z.enum(['hex', 'base64']),
  tx_hash: z.string(),
  from: z.string(),
  to: z.string(),
  value: z.string(),
  asset: z.string(),
  estimated_fee: z.string(),
  fee_unit: z.enum(['wei', 'lamports']),
  rent_lamports: z.string().nullable(),
  nonce: z.number().int().nullable(),
  chain_id: z.number().int().nullable(),
  policy: PolicyVerdict,
})

/** POST /wallet/build-tx: tool `wallet_build_tx`. */
export const BuildTxInput = z.strictObject({
  wallet_id: WalletId.describe('The signing wallet'),
  tx_type: z.enum(['transfer', 'token_transfer', 'contract_call']).describe('transfer: native coin; token_transfer: ERC-20 transfer(to, value) sent to `token`, or on Solana SPL TransferChecked of mint `token` between the associated token accounts of the wallet and `to`; contract_call (Ethereum): arbitrary `data` to `to`'),
  to: Address.describe('Recipient (transfer, token_transfer) or contract (contract_call); 0x lowercase or EIP-55'),
  value: BaseUnits.describe('Amount in base units (wei / token units) as a decimal integer string; 0 allowed'),
  token: Address.optional().describe('ERC-20 contract or SPL mint (token_transfer only)'),
  data: HexData(24 * 1024).optional().describe('0x call data ≤ 24 KiB (contract_call only)'),
  chain_params: ChainParams.describe('Ethereum: chain_id and nonce (required), optional fee fields, gas_limit, access_list. Solana: recent_blockhash (required), compute_unit_limit, compute_unit_price_micro_lamports; SPL tokens also decimals (required), token_program, create_ata'),
  approval_id: ApprovalIdInput,
})

/** POST /wallet/send: tool `wallet_send`. */
export const SendInput = z.strictObject({
  wallet_id: WalletId.describe('The signing wallet'),
  to: Address.describe('Recipient address'),
  amount: z.string().regex(/^\d{1,30}(\.\d{1,18})?$/, 'expected a decimal amount in whole units, e.g. "0.05"').describe('Amount in whole units (ETH, or token units with chain_params.decimals)'),
  token: Address.optional().describe('ERC-20 contract or SPL mint to transfer instead of the native coin'),
  chain_params: ChainParams.describe('Ethereum: chain_id and nonce (required), fee fields, decimals for tokens. Solana: recent_blockhash (required), compute budget fields; SPL tokens also decimals, token_program, create_ata'),
  approval_id: ApprovalIdInput,
})

/** POST /wallet/sign: tool `wallet_sign`. */
export const SignInput = z.strictObject({
  wallet_id: WalletId.describe('The signing wallet'),
  payload: HexData(64 * 1024).optional().describe('0x-hex bytes to sign (≤ 64 KiB); for raw_digest exactly 32 bytes on Ethereum'),
  typed_data: TypedData.optional().describe('EIP-712 {types, primaryType, domain, message} (scheme eip712, instead of payload)'),
  scheme: z
    .enum(['eip191', 'eip712', 'solana_offchain', 'raw_digest'])
    .optional()
    .describe('eip191 (Ethereum personal_sign, default), eip712 (with typed_data), solana_offchain (Solana default: off-chain message envelope over UTF-8 text) or raw_digest (can authorise transactions: gated)'),
  approval_id: ApprovalIdInput,
})

const SignOutput = z.object({wallet_id: WalletId, scheme: z.string(), signature: z.string(), recovery_id: z.number().int().nullable(), digest: z.string(), policy: PolicyVerdict})

/** One receipt. */
export const Receipt = z.object({
  id: OperationId,
  wallet_id: z.string().nullable(),
  action: z.string(),
  decision: z.enum(['allowed', 'denied', 'approval_required']),
  rule_ids: z.array(z.string()),
  chain: z.string().nullable(),
  chain_id: z.number().int().nullable(),
  to: z.string().nullable(),
  asset: z.string().nullable(),
  value: z.string().nullable(),
  tx_hash: z.string().nullable(),
  digest: z.string().nullable(),
  ledger_seq: z.number().int().nullable(),
  created_at: IsoTime,
})

/** POST /wallet/policy/evaluate. */
export const EvaluateInput = z.strictObject({
  wallet_id: WalletId,
  action: z.enum(POLICY_ACTIONS),
  to: Address.optional(),
  asset: Address.optional().describe('"native" (default for send) or a token contract'),
  value: BaseUnits.default('0'),
  chain_id: z.number().int().min(1).max(2 ** 53 - 1).optional(),
})

const WindowUsage = z.object({rule_id: z.string(), scope_key: z.string(), count: z.number().int(), total: z.string(), max_count: z.number().int().nullable(), max_total: z.string().nullable(), window_secs: z.number().int()})

/** GET /health of keyd. */
export const KeydHealth = HealthBase.extend({
  wallet_count: z.number().int(),
  policy_loaded: z.boolean(),
  policy_rules: z.number().int(),
  policy_sha256: z.string().nullable(),
  keystore: z.enum(['unlocked', 'locked']),
})

export const keydApi = {
  health: route('GET', '/health', {output: KeydHealth, roles: OA}),
  reload: route('POST', '/reload', {output: ReloadOutput, roles: O}),
  walletCreate: route('POST', '/wallet/create', {
    input: z.strictObject({chain: Chain.describe('ethereum or solana'), label: z.string().min(1).max(64).describe('Unique human label for the wallet')}),
    output: Wallet,
    roles: OA,
  }),
  walletList: route('GET', '/wallet/list', {input: z.strictObject({chain: Chain.optional().describe('Only wallets of this chain')}), output: z.object({wallets: z.array(Wallet)}), roles: OA}),
  walletSign: route('POST', '/wallet/sign', {input: SignInput, output: SignOutput, roles: OA, maxBodyBytes: 256 * 1024}),
  walletSend: route('POST', '/wallet/send', {input: SendInput, output: TxOutput, roles: OA}),
  walletBuildTx: route('POST', '/wallet/build-tx', {input: BuildTxInput, output: TxOutput, roles: OA, maxBodyBytes: 128 * 1024}),
  walletDelete: route('POST', '/wallet/delete', {input: z.strictObject({wallet_id: WalletId.describe('The wallet to delete; its key is destroyed'), approval_id: ApprovalIdInput}), output: z.object({deleted: WalletId}), roles: OA}),
  walletReceipts: route('GET', '/wallet/receipts', {
    input: z.strictObject({
      wallet_id: WalletId.optional().describe('Only this wallet'),
      action: z.enum(['create', 'sign', 'send', 'token_transfer', 'contract_call', 'delete']).optional(),
      limit: limit(20, 200),
      cursor: OperationId.optional().describe('next_cursor of the previous page'),
    }),
    output: z.object({receipts: z.array(Receipt), next_cursor: z.string().nullable()}),
    roles: OA,
  }),
  walletPolicyGet: route('GET', '/wallet/policy', {output: z.object({policy: Policy, sha256: z.string(), mutable: z.boolean()}), roles: OA}),
  walletPolicyPut: route('PUT', '/wallet/policy', {input: z.strictObject({policy: Policy}), output: z.object({policy: Policy, sha256: z.string()}), roles: O}),
  walletPolicyEvaluate: route('POST', '/wallet/policy/evaluate', {
    input: EvaluateInput,
    output: z.object({decision: z.enum(['allowed', 'denied', 'approval_required']), rule_ids: z.array(z.string()), reasons: z.array(z.string()), window_usage: z.array(WindowUsage)}),
    roles: OA,
  }),
} as const

/** keyd's route table. */
export type KeydApi = typeof keydApi
