import {z} from 'zod'
import {SharedConfig} from '../../lib/config.js'
import {Policy} from './policy.js'

const AbsolutePath = z.string().regex(/^\/[^\0]*$/, 'must be an absolute path').max(4096)
const Wei = z.string().regex(/^[0-9]{1,78}$/, 'expected base units as a decimal integer string')

/** Fee defaults of one EVM chain, used when `chain_params` omit the fee fields. */
export const EvmFeeDefaults = z.strictObject({
  maxFeePerGas: Wei,
  maxPriorityFeePerGas: Wei,
  gasLimitTransfer: z.number().int().min(21_000).max(30_000_000).default(21_000),
  gasLimitToken: z.number().int().min(21_000).max(30_000_000).default(65_000),
})

const gwei = (n: number) => String(BigInt(Math.round(n * 1000)) * 10n ** 6n)

// Conservative ceilings (not estimates): a caller who knows the network's current fees passes them.
const FEE_DEFAULTS = {
  '1': {maxFeePerGas: gwei(50), maxPriorityFeePerGas: gwei(2), gasLimitTransfer: 21_000, gasLimitToken: 65_000},
  '10': {maxFeePerGas: gwei(0.1), maxPriorityFeePerGas: gwei(0.001), gasLimitTransfer: 21_000, gasLimitToken: 65_000},
  '137': {maxFeePerGas: gwei(300), maxPriorityFeePerGas: gwei(30), gasLimitTransfer: 21_000, gasLimitToken: 65_000},
  '8453': {maxFeePerGas: gwei(0.1), maxPriorityFeePerGas: gwei(0.001), gasLimitTransfer: 21_000, gasLimitToken: 65_000},
  '42161': {maxFeePerGas: gwei(0.1), maxPriorityFeePerGas: gwei(0), gasLimitTransfer: 21_000, gasLimitToken: 65_000},
  '11155111': {maxFeePerGas: gwei(20), maxPriorityFeePerGas: gwei(1), gasLimitTransfer: 21_000, gasLimitToken: 65_000},
}

/** `<config>/keyd.json`: the keys of SPEC §2.2. */
export const KeydConfig = z.strictObject({
  ...SharedConfig,
  kekFile: AbsolutePath.optional().describe(
    '32-byte key-encryption key (raw, or 64 hex digits). Default: $CREDENTIALS_DIRECTORY/keyd.kek (or …/kek), else <config>/secrets/keyd.kek. Never inside the state directory (backups).',
  ),
  policySeed: Policy.optional().describe('Written to keyd/policy.json only when that file is absent (default: the built-in seed policy)'),
  policyMutable: z.boolean().default(true).describe('false: <config>/keyd-policy.json is authoritative and PUT /wallet/policy answers 409 CONFIG_IMMUTABLE'),
  reservationTtlSecs: z.number().int().min(5).max(3600).default(60).describe('An unconfirmed spend reservation is released after this'),
  solanaFeeDefaults: z
    .strictObject({computeUnitLimit: z.number().int().min(1).max(1_400_000).default(200_000), computeUnitPriceMicroLamports: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0)})
    .prefault({})
    .describe('Solana compute budget used for the fee estimate when chain_params omit it'),
  feeDefaults: z.record(z.string().regex(/^[1-9][0-9]{0,17}$/), EvmFeeDefaults).default(FEE_DEFAULTS),
})

/** keyd's validated config. */
export type KeydConfig = z.output<typeof KeydConfig>
