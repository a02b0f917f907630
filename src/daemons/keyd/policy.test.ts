import {describe, expect, it} from 'vitest'
import {evaluatePolicy, Policy, ruleMatches, scopeKey, DEFAULT_POLICY, type PolicyRequest, type PolicyRule} from './policy.js'

const W = 'wal_01JDX8Q4S1T6V0W7Y2Z3A4B5C6'
const base: PolicyRequest = {wallet_id: W, chain: 'ethereum', chain_id: 1, action: 'send', to: '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed', asset: 'native', value: 5n, selector: null}
const rule = (over: Partial<PolicyRule>): PolicyRule => Policy.parse({version: 1, default_effect: 'deny', rules: [{id: 'r', effect: 'allow', actions: ['send'], ...over}]}).rules[0] as PolicyRule
const none = () => ({count: 0, total: 0n})

describe('rule matching', () => {
  it.each([
    {name: 'no matchers', over: {}, req: {}, want: true},
    {name: 'other action', over: {actions: ['sign']}, req: {}, want: false},
    {name: 'chain listed', over: {chains: ['ethereum']}, req: {}, want: true},
    {name: 'chain not listed', over: {chains: ['solana']}, req: {}, want: false},
    {name: 'chain id listed', over: {chain_ids: [1, 8453]}, req: {}, want: true},
    {name: 'chain id not listed', over: {chain_ids: [8453]}, req: {}, want: false},
    {name: 'chain ids vs no chain id', over: {chain_ids: [1]}, req: {chain_id: null}, want: false},
    {name: 'wallet "*"', over: {wallets: ['*']}, req: {}, want: true},
    {name: 'other wallet', over: {wallets: ['wal_01JDX8Q4S1T6V0W7Y2Z3A4B5C7']}, req: {}, want: false},
    {name: 'destination in EIP-55 case', over: {destinations: ['0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed']}, req: {}, want: true},
    {name: 'other destination', over: {destinations: ['0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359']}, req: {}, want: false},
    {name: 'destinations vs no destination', over: {destinations: ['0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359']}, req: {to: null}, want: false},
    {name: 'asset native', over: {assets: ['native']}, req: {}, want: true},
    {name: 'token asset', over: {assets: ['0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB']}, req: {asset: '0xdbf03b407c01e7cd3cbea99509d93f8dddc8c6fb'}, want: true},
    {name: 'selector listed', over: {actions: ['contract_call'], selectors: ['0xa9059cbb']}, req: {action: 'contract_call', selector: '0xa9059cbb'}, want: true},
    {name: 'selector not listed', over: {actions: ['contract_call'], selectors: ['0x095ea7b3']}, req: {action: 'contract_call', selector: '0xa9059cbb'}, want: false},
  ] as {name: string; over: Partial<PolicyRule>; req: Partial<PolicyRequest>; want: boolean}[])('$name → $want', ({over, req, want}) => {
    expect(ruleMatches(rule(over), {...base, ...req})).toBe(want)
  })

  it('counts chain-scoped windows per chain and chain id, wallet-scoped per wallet', () => {
    expect(scopeKey(rule({scope: 'chain'}), base)).toBe('chain:ethereum:1')
    expect(scopeKey(rule({}), base)).toBe(`wallet:${W}`)
  })
})

describe('evaluation', () => {
  const policy = (rules: Partial<PolicyRule>[]) => Policy.parse({version: 1, default_effect: 'deny', rules: rules.map((r, i) => ({id: `r${i}`, effect: 'allow', actions: ['send'], ...r}))})

  it('denies by default when nothing matches', () => {
    expect(evaluatePolicy(policy([]), base, none)).toMatchObject({decision: 'denied', deny_rule: 'default'})
  })

  it('deny overrides allow and require_approval', () => {
    expect(evaluatePolicy(policy([{}, {effect: 'require_approval'}, {effect: 'deny'}]), base, none)).toMatchObject({decision: 'denied', deny_rule: 'r2', rule_ids: ['r0', 'r1', 'r2']})
  })

  it('require_approval over allow; approval_above gates only larger values', () => {
    expect(evaluatePolicy(policy([{}, {effect: 'require_approval'}]), base, none).decision).toBe('approval_required')
    expect(evaluatePolicy(policy([{approval_above: '5'}]), base, none).decision).toBe('allowed')
    expect(evaluatePolicy(policy([{approval_above: '4'}]), base, none).decision).toBe('approval_required')
  })

  it('every matching non-deny rule must hold its limits, counting the request in', () => {
    const p = policy([{max_per_tx: '100'}, {effect: 'require_approval', window: {secs: 60, max_count: 3}}])
    expect(evaluatePolicy(p, base, () => ({count: 2, total: 0n})).decision).toBe('approval_required')
    expect(evaluatePolicy(p, base, () => ({count: 3, total: 0n}))).toMatchObject({decision: 'denied', deny_rule: 'r1'})
    expect(evaluatePolicy(p, {...base, value: 101n}, none)).toMatchObject({decision: 'denied', deny_rule: 'r0'})
    const total = policy([{window: {secs: 60, max_total: '10'}}])
    expect(evaluatePolicy(total, base, () => ({count: 9, total: 5n})).decision).toBe('allowed')
    expect(evaluatePolicy(total, base, () => ({count: 9, total: 6n})).decision).toBe('denied')
  })

  it('the seed policy is valid and matches SPEC §2.2', () => {
    expect(Policy.parse(DEFAULT_POLICY)).toEqual(DEFAULT_POLICY)
    expect(DEFAULT_POLICY.rules.map((r) => [r.id, r.effect])).toEqual([['eth-native-daily', 'allow'], ['sol-native-daily', 'allow'], ['sign-daily', 'allow'], ['gated-by-default', 'require_approval']])
  })
})
