import {afterEach, describe, expect, it} from 'vitest'
import {readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {randomBytes} from 'node:crypto'
import {join} from 'node:path'
import {recoverTransactionAddress} from 'viem'
import {APPROVED, keydKit} from '../../../test/helpers/keyd-kit.js'
import type {Policy} from './policy.js'

const operator = {role: 'operator' as const, actor: 'operator:test'}
const agent = {role: 'agent' as const, actor: 'agent:osmoda'}
const RECIPIENT = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'
const kits: ReturnType<typeof keydKit>[] = []
const kit = (options?: Parameters<typeof keydKit>[0]) => {
  const k = keydKit(options)
  kits.push(k)
  return k
}
afterEach(() => {
  for (const k of kits.splice(0)) k.cleanup()
})

const tenPerHour: Policy = {
  version: 1,
  default_effect: 'deny',
  rules: [{id: 'ten-per-hour', effect: 'allow', actions: ['send'], chains: ['ethereum'], max_per_tx: '1000', window: {secs: 3600, max_count: 10, max_total: '100000'}, scope: 'wallet'}],
}
const transfer = (walletId: string, nonce: number, value = '5') => ({wallet_id: walletId, tx_type: 'transfer' as const, to: RECIPIENT, value, chain_params: {chain_id: 1, nonce}})

describe('keystore', () => {
  it('creates Ethereum and Solana wallets whose key files are 0600 AES-GCM JSON', () => {
    // Given an unlocked keyd
    const k = kit()
    const {service} = k.open()
    // When two wallets are created
    const eth = service.createWallet({chain: 'ethereum', label: 'treasury'}, operator)
    const sol = service.createWallet({chain: 'solana', label: 'sol'}, operator)
    // Then addresses have the chains' formats and key files hold only {v, nonce, ct}
    expect(eth.address).toMatch(/^0x[0-9a-fA-F]{40}$/)
    expect(sol.address).toMatch(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/)
    for (const w of [eth, sol]) {
      const file = join(k.paths.daemonStateDir('keyd'), 'keys', `${w.id}.key`)
      expect(statSync(file).mode & 0o777).toBe(0o600)
      const body = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>
      expect(Object.keys(body).sort()).toEqual(['ct', 'nonce', 'v'])
      expect(Buffer.from(body.nonce as string, 'base64')).toHaveLength(12)
    }
    expect(() => service.createWallet({chain: 'ethereum', label: 'treasury'}, operator)).toThrow(expect.objectContaining({code: 'ALREADY_EXISTS'}))
  })

  it('refuses to start with a wrong or missing KEK when wallets exist, rewriting nothing', () => {
    // Given a wallet created under one KEK
    const k = kit()
    const first = k.open()
    const w = first.service.createWallet({chain: 'ethereum', label: 'a'}, operator)
    const keyFile = join(k.paths.daemonStateDir('keyd'), 'keys', `${w.id}.key`)
    const before = readFileSync(keyFile)
    // When the KEK is replaced, Then the start-up check fails with KEYSTORE_LOCKED naming the file
    writeFileSync(k.kekFile, randomBytes(32))
    expect(() => k.open().service.checkKeystore()).toThrow(expect.objectContaining({code: 'KEYSTORE_LOCKED', message: expect.stringContaining(k.kekFile)}))
    // When the KEK is missing, Then the same, and creating is refused too
    rmSync(k.kekFile)
    const locked = k.open()
    expect(() => locked.service.checkKeystore()).toThrow(expect.objectContaining({code: 'KEYSTORE_LOCKED'}))
    expect(() => locked.service.createWallet({chain: 'ethereum', label: 'b'}, operator)).toThrow(expect.objectContaining({code: 'KEYSTORE_LOCKED'}))
    // And the key file is byte-identical
    expect(readFileSync(keyFile).equals(before)).toBe(true)
  })

  it.each([
    ['truncated', (s: string) => s.slice(0, s.length / 2)],
    ['tampered ciphertext', (s: string) => {
      const j = JSON.parse(s) as {ct: string}
      const ct = Buffer.from(j.ct, 'base64')
      ct[0] = (ct[0] as number) ^ 1
      return JSON.stringify({...j, ct: ct.toString('base64')})
    }],
  ])('a %s key file fails with KEYSTORE_LOCKED and burns no quota', async (_name, damage) => {
    // Given two wallets, one with a damaged key file
    const k = kit({policy: tenPerHour})
    const {service, signing} = k.open()
    const good = service.createWallet({chain: 'ethereum', label: 'good'}, operator)
    const bad = service.createWallet({chain: 'ethereum', label: 'bad'}, operator)
    const file = join(k.paths.daemonStateDir('keyd'), 'keys', `${bad.id}.key`)
    writeFileSync(file, damage(readFileSync(file, 'utf8')))
    const damaged = readFileSync(file)
    // When signing with it
    await expect(signing.buildTx(transfer(bad.id, 0), operator)).rejects.toMatchObject({code: 'KEYSTORE_LOCKED'})
    // Then start-up still works (one good file) and reports the bad one, the file is unchanged and no quota was used
    expect(service.checkKeystore()).toEqual([expect.stringContaining(bad.id)])
    expect(readFileSync(file).equals(damaged)).toBe(true)
    expect(signing.evaluate({wallet_id: bad.id, action: 'send', value: '1'}).window_usage[0]).toMatchObject({count: 0})
    await expect(signing.buildTx(transfer(good.id, 0), operator)).resolves.toMatchObject({wallet_id: good.id})
  })

  it('swapped key files fail to decrypt (the AAD binds wallet id, chain and address)', async () => {
    const k = kit()
    const {service, signing} = k.open()
    const a = service.createWallet({chain: 'ethereum', label: 'a'}, operator)
    const b = service.createWallet({chain: 'ethereum', label: 'b'}, operator)
    const dir = join(k.paths.daemonStateDir('keyd'), 'keys')
    writeFileSync(join(dir, `${a.id}.key`), readFileSync(join(dir, `${b.id}.key`)))
    await expect(signing.sign({wallet_id: a.id, payload: '0x01'}, operator)).rejects.toMatchObject({code: 'KEYSTORE_LOCKED'})
  })

  it('delete destroys the key file and the wallet', async () => {
    const k = kit()
    const {service} = k.open()
    const w = service.createWallet({chain: 'solana', label: 'x'}, operator)
    // An agent is gated (always)
    await expect(service.deleteWallet({wallet_id: w.id}, agent)).rejects.toMatchObject({code: 'APPROVAL_REQUIRED'})
    expect(await service.deleteWallet({wallet_id: w.id, approval_id: APPROVED}, agent)).toEqual({deleted: w.id})
    expect(() => statSync(join(k.paths.daemonStateDir('keyd'), 'keys', `${w.id}.key`))).toThrow()
    expect(service.listWallets().wallets).toEqual([])
    await expect(service.deleteWallet({wallet_id: w.id}, operator)).rejects.toMatchObject({code: 'NOT_FOUND'})
  })
})

describe('check-and-spend', () => {
  it('100 concurrent sends against a limit of 10 produce exactly 10 signatures', async () => {
    // Given a wallet under a 10-per-hour rule and a gate that yields between decision and reservation
    const k = kit({policy: tenPerHour})
    const {service, signing, ledger} = k.open()
    const w = service.createWallet({chain: 'ethereum', label: 'hot'}, operator)
    // When 100 sends race
    const results = await Promise.allSettled(Array.from({length: 100}, (_, i) => signing.buildTx(transfer(w.id, i), agent)))
    // Then exactly 10 signed (each recovering the wallet's address) and 90 were denied by the window
    const ok = results.filter((r) => r.status === 'fulfilled')
    expect(ok).toHaveLength(10)
    for (const r of ok) expect(await recoverTransactionAddress({serializedTransaction: r.value.signed_tx as `0x02${string}`})).toBe(w.address)
    const denied = results.filter((r) => r.status === 'rejected')
    expect(denied.every((r) => (r.reason as {code: string}).code === 'POLICY_DENIED')).toBe(true)
    expect(ledger.query({type: 'wallet.tx_built', limit: 1000, order: 'asc'})).toHaveLength(10)
    expect(ledger.query({type: 'wallet.denied', limit: 1000, order: 'asc'})).toHaveLength(90)
    expect(signing.evaluate({wallet_id: w.id, action: 'send', value: '1'}).window_usage[0]).toMatchObject({count: 10, total: '50'})
  })

  it('the rolling window frees capacity only after it passes (controllable clock)', async () => {
    const k = kit({policy: tenPerHour})
    const {service, signing} = k.open()
    const w = service.createWallet({chain: 'ethereum', label: 'w'}, operator)
    // Given 10 sends at t0
    for (let i = 0; i < 10; i++) await signing.buildTx(transfer(w.id, i), operator)
    // When the clock moves to just before the window ends, Then the 11th is still denied
    k.now.ms += 3600 * 1000 - 1
    await expect(signing.buildTx(transfer(w.id, 10), operator)).rejects.toMatchObject({code: 'POLICY_DENIED', details: {rule_id: 'ten-per-hour'}})
    // When the window has passed, Then capacity is back
    k.now.ms += 1
    await expect(signing.buildTx(transfer(w.id, 10), operator)).resolves.toMatchObject({nonce: 10})
  })

  it('a reservation whose signing never finished counts until its TTL, then is released', async () => {
    // Given a live reservation left behind (as after a crash between reserve and sign)
    const k = kit({policy: tenPerHour})
    const {service, signing, store} = k.open()
    const w = service.createWallet({chain: 'ethereum', label: 'w'}, operator)
    store.reserve({op_id: 'op_01JDX8Q4S1T6V0W7Y2Z3A4B5C6', rule_id: 'ten-per-hour', scope_key: `wallet:${w.id}`, value: '7', at_ms: k.now.ms, expires_at_ms: k.now.ms + 60_000})
    // Then it counts while live
    expect(signing.evaluate({wallet_id: w.id, action: 'send', value: '1'}).window_usage[0]).toMatchObject({count: 1, total: '7'})
    // When the TTL passes, Then it stops counting and the expiry loop deletes it
    k.now.ms += 60_000
    expect(signing.evaluate({wallet_id: w.id, action: 'send', value: '1'}).window_usage[0]).toMatchObject({count: 0, total: '0'})
    expect(service.expireReservations()).toBe(1)
  })

  it('enforces max_per_tx and max_total in base units, beyond 2^53', async () => {
    const big: Policy = {version: 1, default_effect: 'deny', rules: [{id: 'big', effect: 'allow', actions: ['send'], max_per_tx: '9007199254740993', window: {secs: 60, max_total: '18014398509481985'}, scope: 'wallet'}]}
    const k = kit({policy: big})
    const {service, signing} = k.open()
    const w = service.createWallet({chain: 'ethereum', label: 'w'}, operator)
    await expect(signing.buildTx(transfer(w.id, 0, '9007199254740994'), operator)).rejects.toMatchObject({code: 'POLICY_DENIED'})
    await signing.buildTx(transfer(w.id, 0, '9007199254740993'), operator)
    await signing.buildTx(transfer(w.id, 1, '9007199254740992'), operator)
    // 9007199254740993 + 9007199254740992 = 18014398509481985: the window is full
    await expect(signing.buildTx(transfer(w.id, 2, '1'), operator)).rejects.toMatchObject({code: 'POLICY_DENIED'})
  })

  it('deny wins over allow, and approval_above gates through the gate with the policy hint', async () => {
    const policy: Policy = {
      version: 1,
      default_effect: 'deny',
      rules: [
        {id: 'allow-all', effect: 'allow', actions: ['send'], approval_above: '100', scope: 'wallet'},
        {id: 'block-one', effect: 'deny', actions: ['send'], destinations: ['0x000000000000000000000000000000000000dEaD'], scope: 'wallet'},
      ],
    }
    const k = kit({policy})
    const {service, signing} = k.open()
    const w = service.createWallet({chain: 'ethereum', label: 'w'}, operator)
    // A denied destination (given in lowercase) is denied whatever else allows it
    await expect(signing.buildTx({...transfer(w.id, 0), to: '0x000000000000000000000000000000000000dead'}, agent)).rejects.toMatchObject({code: 'POLICY_DENIED', details: {rule_id: 'block-one'}})
    // Above approval_above the agent gets 412 and the gate saw hint "required"; with the approval it signs
    await expect(signing.buildTx(transfer(w.id, 0, '101'), agent)).rejects.toMatchObject({code: 'APPROVAL_REQUIRED'})
    expect(k.gate.calls.at(-1)).toMatchObject({operation: 'wallet_build_tx', hint: 'required', path: '/wallet/build-tx'})
    expect(k.gate.calls.at(-1)?.body).not.toHaveProperty('approval_id')
    await expect(signing.buildTx({...transfer(w.id, 0, '101'), approval_id: APPROVED}, agent)).resolves.toMatchObject({policy: {decision: 'approval_required', rule_ids: ['allow-all']}})
    // Below it the gate is told not_required
    await signing.buildTx(transfer(w.id, 1, '100'), agent)
    expect(k.gate.calls.at(-1)).toMatchObject({hint: 'not_required'})
    // Receipts record every decision, newest first
    expect(service.receipts({wallet_id: w.id, limit: 10}).receipts.map((r) => r.decision)).toEqual(['allowed', 'allowed', 'approval_required', 'denied', 'allowed'])
  })

  it('the default seed gates token transfers and contract calls, and denies unknown actions', async () => {
    const k = kit()
    const {service, signing} = k.open()
    const w = service.createWallet({chain: 'ethereum', label: 'w'}, operator)
    const token = '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB'
    await expect(signing.buildTx({wallet_id: w.id, tx_type: 'token_transfer', to: RECIPIENT, token, value: '1', chain_params: {chain_id: 1, nonce: 0}}, agent)).rejects.toMatchObject({code: 'APPROVAL_REQUIRED'})
    await expect(signing.buildTx({wallet_id: w.id, tx_type: 'contract_call', to: token, value: '0', data: '0xa9059cbb', chain_params: {chain_id: 1, nonce: 0}}, agent)).rejects.toMatchObject({code: 'APPROVAL_REQUIRED'})
    // A send over 1 ETH is over max_per_tx of eth-native-daily
    await expect(signing.send({wallet_id: w.id, to: RECIPIENT, amount: '1.000000000000000001', chain_params: {chain_id: 1, nonce: 0}}, agent)).rejects.toMatchObject({code: 'POLICY_DENIED', details: {rule_id: 'eth-native-daily'}})
    const sent = await signing.send({wallet_id: w.id, to: RECIPIENT, amount: '0.5', chain_params: {chain_id: 1, nonce: 0}}, agent)
    expect(sent).toMatchObject({value: '500000000000000000', estimated_fee: String(21_000n * 50n * 10n ** 9n), tx_type: 'transfer'})
  })

  it('builds native SOL transfers under the seed policy: signature verifies, 10 SOL window holds', async () => {
    // Given a Solana wallet and the seed policy (sol-native-daily: 10 SOL per day)
    const k = kit()
    const {service, signing} = k.open()
    const w = service.createWallet({chain: 'solana', label: 'sol'}, operator)
    const to = service.createWallet({chain: 'solana', label: 'sol2'}, operator).address
    const blockhash = 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N'
    // When the agent sends 1.5 SOL with a priority fee
    const tx = await signing.send({wallet_id: w.id, to, amount: '1.5', chain_params: {recent_blockhash: blockhash, compute_unit_limit: 300, compute_unit_price_micro_lamports: 10_000}}, agent)
    // Then the transaction is base64, its signature (the tx hash) verifies over the message with the wallet's key
    expect(tx).toMatchObject({chain: 'solana', encoding: 'base64', value: '1500000000', fee_unit: 'lamports', estimated_fee: '5003', nonce: null, chain_id: null})
    const raw = Buffer.from(tx.signed_tx, 'base64')
    const {base58Decode} = await import('./base58.js')
    expect(Buffer.from(base58Decode(tx.tx_hash) as Uint8Array).equals(raw.subarray(1, 65))).toBe(true)
    const {createPublicKey, verify} = await import('node:crypto')
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), base58Decode(w.address) as Uint8Array])
    expect(verify(null, raw.subarray(65), createPublicKey({key: spki, format: 'der', type: 'spki'}), raw.subarray(1, 65))).toBe(true)
    // And more than 10 SOL in the window is denied; sending to itself or to an Ethereum address is refused
    await expect(signing.send({wallet_id: w.id, to, amount: '8.500000001', chain_params: {recent_blockhash: blockhash}}, agent)).rejects.toMatchObject({code: 'POLICY_DENIED', details: {rule_id: 'sol-native-daily'}})
    await expect(signing.send({wallet_id: w.id, to: w.address, amount: '1', chain_params: {recent_blockhash: blockhash}}, agent)).rejects.toMatchObject({code: 'VALIDATION_FAILED'})
    await expect(signing.send({wallet_id: w.id, to: RECIPIENT, amount: '1', chain_params: {recent_blockhash: blockhash}}, agent)).rejects.toMatchObject({code: 'INVALID_ADDRESS'})
    await expect(signing.send({wallet_id: w.id, to, amount: '1', chain_params: {chain_id: 1, nonce: 0}}, agent)).rejects.toMatchObject({code: 'VALIDATION_FAILED'})
    // And an off-chain message (the Solana default scheme) is signed over its envelope
    const message = new TextEncoder().encode('login to osmoda')
    const signedMsg = await signing.sign({wallet_id: w.id, payload: `0x${Buffer.from(message).toString('hex')}`}, agent)
    expect(signedMsg.scheme).toBe('solana_offchain')
    const {offchainMessage} = await import('./solana.js')
    const envelope = offchainMessage(base58Decode(w.address) as Uint8Array, message)
    expect(verify(null, envelope, createPublicKey({key: spki, format: 'der', type: 'spki'}), base58Decode(signedMsg.signature) as Uint8Array)).toBe(true)
  })
})
