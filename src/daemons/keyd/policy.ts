import {z} from 'zod'

/** Base units (wei, lamports, token units) as a decimal integer string (SPEC §1.8). */
export const BaseUnits = z.string().regex(/^[0-9]{1,78}$/, 'expected base units as a decimal integer string (no sign, no decimals)')

/** Policy actions (SPEC §2.2). */
export const POLICY_ACTIONS = ['send', 'token_transfer', 'contract_call', 'sign', 'sign_raw'] as const
/** A policy action. */
export type PolicyAction = (typeof POLICY_ACTIONS)[number]

/** Chains keyd holds keys for. */
export const CHAINS = ['ethereum', 'solana'] as const
/** A chain. */
export type Chain = (typeof CHAINS)[number]

/** One policy rule; omitted matchers match everything. */
export const PolicyRule = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'expected a rule id of a-z 0-9 . _ - (≤ 64)'),
  effect: z.enum(['allow', 'deny', 'require_approval']),
  actions: z.array(z.enum(POLICY_ACTIONS)).min(1).max(5),
  chains: z.array(z.enum(CHAINS)).min(1).max(2).optional(),
  chain_ids: z.array(z.number().int().min(1).max(2 ** 53 - 1)).min(1).max(64).optional(),
  wallets: z.array(z.string().regex(/^(\*|wal_[0-7][0-9A-HJKMNP-TV-Z]{25})$/, 'expected a wallet id or "*"')).min(1).max(256).optional(),
  assets: z.array(z.string().min(1).max(64)).min(1).max(256).optional(),
  destinations: z.array(z.string().min(1).max(64)).min(1).max(1024).optional(),
  selectors: z.array(z.string().regex(/^0x[0-9a-f]{8}$/, 'expected a 4-byte selector 0x + 8 lowercase hex')).min(1).max(256).optional(),
  max_per_tx: BaseUnits.optional(),
  approval_above: BaseUnits.optional(),
  window: z.strictObject({secs: z.number().int().min(1).max(31_536_000), max_total: BaseUnits.optional(), max_count: z.number().int().min(1).max(1_000_000).optional()}).optional(),
  scope: z.enum(['wallet', 'chain']).default('wallet'),
})
/** A validated rule. */
export type PolicyRule = z.output<typeof PolicyRule>

/** keyd/policy.json. */
export const Policy = z
  .strictObject({version: z.literal(1), default_effect: z.literal('deny'), rules: z.array(PolicyRule).max(256)})
  .refine((p) => new Set(p.rules.map((r) => r.id)).size === p.rules.length, 'rule ids must be unique')
/** A validated policy. */
export type Policy = z.output<typeof Policy>

const DAY = 86_400

/** The seed policy of SPEC §2.2. */
export const DEFAULT_POLICY: Policy = {
  version: 1,
  default_effect: 'deny',
  rules: [
    {id: 'eth-native-daily', effect: 'allow', actions: ['send'], chains: ['ethereum'], assets: ['native'], max_per_tx: '1000000000000000000', window: {secs: DAY, max_total: '1000000000000000000', max_count: 10}, scope: 'wallet'},
    {id: 'sol-native-daily', effect: 'allow', actions: ['send'], chains: ['solana'], assets: ['native'], max_per_tx: '10000000000', window: {secs: DAY, max_total: '10000000000', max_count: 20}, scope: 'wallet'},
    {id: 'sign-daily', effect: 'allow', actions: ['sign'], window: {secs: DAY, max_count: 100}, scope: 'wallet'},
    {id: 'gated-by-default', effect: 'require_approval', actions: ['token_transfer', 'contract_call', 'sign_raw'], scope: 'wallet'},
  ],
}

/** What the policy is asked about. Addresses are normalised (ETH lowercase 0x-hex, SOL base58). */
export interface PolicyRequest {
  wallet_id: string
  chain: Chain
  chain_id: number | null
  action: PolicyAction
  to: string | null
  /** `native`, or the token contract / mint (normalised like addresses). */
  asset: string | null
  value: bigint
  /** `0x` + 8 hex of a contract call's data, else null. */
  selector: string | null
}

/** Committed plus live reserved usage of one rule's window for one scope. */
export interface WindowUsage {
  count: number
  total: bigint
}

/** The verdict of one evaluation. */
export interface PolicyDecision {
  decision: 'allowed' | 'denied' | 'approval_required'
  rule_ids: string[]
  reasons: string[]
  /** For a denial: the deciding rule (or `default`). */
  deny_rule: string | null
  window_usage: {rule_id: string; scope_key: string; count: number; total: string; max_count: number | null; max_total: string | null; window_secs: number}[]
}

/** The key a windowed rule counts under: the wallet, or the chain (+ chain id) for `scope: chain`. */
export function scopeKey(rule: PolicyRule, request: PolicyRequest): string {
  return rule.scope === 'chain' ? `chain:${request.chain}:${request.chain_id ?? ''}` : `wallet:${request.wallet_id}`
}

const norm = (request: PolicyRequest, value: string) => (request.chain === 'ethereum' && /^0x[0-9a-fA-F]{40}$/.test(value) ? value.toLowerCase() : value)

/** True when every matcher the rule has accepts the request. */
export function ruleMatches(rule: PolicyRule, request: PolicyRequest): boolean {
  if (!rule.actions.includes(request.action)) return false
  if (rule.chains && !rule.chains.includes(request.chain)) return false
  if (rule.chain_ids && (request.chain_id === null || !rule.chain_ids.includes(request.chain_id))) return false
  if (rule.wallets && !rule.wallets.includes('*') && !rule.wallets.includes(request.wallet_id)) return false
  if (rule.assets && (request.asset === null || !rule.assets.some((a) => norm(request, a) === request.asset))) return false
  if (rule.destinations && (request.to === null || !rule.destinations.some((d) => norm(request, d) === request.to))) return false
  if (rule.selectors && (request.selector === null || !rule.selectors.includes(request.selector))) return false
  return true
}

/**
 * Deny-overrides evaluation (SPEC §2.2): any matching deny → denied; every matching non-deny rule's
 * per-tx and window limits must hold (the request counted in); then require_approval → gated; then
 * allow (gated above a matching allow rule's `approval_above`); nothing matching → default deny.
 */
export function evaluatePolicy(policy: Policy, request: PolicyRequest, usage: (rule: PolicyRule, scopeKey: string) => WindowUsage): PolicyDecision {
  const matching = policy.rules.filter((r) => ruleMatches(r, request))
  const out: PolicyDecision = {decision: 'denied', rule_ids: matching.map((r) => r.id), reasons: [], deny_rule: null, window_usage: []}
  const deny = matching.find((r) => r.effect === 'deny')
  if (deny) return {...out, reasons: [`rule ${deny.id} denies ${request.action}`], deny_rule: deny.id}
  if (matching.length === 0) return {...out, reasons: [`no rule allows ${request.action} on ${request.chain}: default_effect deny`], deny_rule: 'default'}

  for (const rule of matching) {
    if (rule.max_per_tx !== undefined && request.value > BigInt(rule.max_per_tx)) {
      return {...out, reasons: [`value ${request.value} exceeds max_per_tx ${rule.max_per_tx} of rule ${rule.id}`], deny_rule: rule.id}
    }
    if (!rule.window) continue
    const key = scopeKey(rule, request)
    const used = usage(rule, key)
    out.window_usage.push({rule_id: rule.id, scope_key: key, count: used.count, total: used.total.toString(), max_count: rule.window.max_count ?? null, max_total: rule.window.max_total ?? null, window_secs: rule.window.secs})
    if (rule.window.max_count !== undefined && used.count + 1 > rule.window.max_count) {
      return {...out, reasons: [`rule ${rule.id}: ${used.count} of ${rule.window.max_count} operations used in the last ${rule.window.secs} s`], deny_rule: rule.id}
    }
    if (rule.window.max_total !== undefined && used.total + request.value > BigInt(rule.window.max_total)) {
      return {...out, reasons: [`rule ${rule.id}: ${used.total} + ${request.value} exceeds max_total ${rule.window.max_total} over ${rule.window.secs} s`], deny_rule: rule.id}
    }
  }
  const gating = matching.filter((r) => r.effect === 'require_approval')
  if (gating.length) return {...out, decision: 'approval_required', reasons: gating.map((r) => `rule ${r.id} requires approval`)}
  const above = matching.filter((r) => r.effect === 'allow' && r.approval_above !== undefined && request.value > BigInt(r.approval_above))
  if (above.length) return {...out, decision: 'approval_required', reasons: above.map((r) => `value above approval_above ${r.approval_above} of rule ${r.id}`)}
  return {...out, decision: 'allowed', reasons: matching.map((r) => `rule ${r.id} allows`)}
}
