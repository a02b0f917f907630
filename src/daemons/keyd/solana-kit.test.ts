// keyd's Solana output read back by an independent implementation: @solana/kit decodes the wire
// transaction, decompiles the message, derives the associated token accounts and verifies the
// signature with WebCrypto. Nothing here reuses keyd's own encoders.
import {afterEach, describe, expect, it} from 'vitest'
import {
  address,
  decompileTransactionMessage,
  getAddressEncoder,
  getBase58Encoder,
  getBase64Encoder,
  getCompiledTransactionMessageDecoder,
  getOffchainMessageDecoder,
  getOffchainMessageEnvelopeDecoder,
  getProgramDerivedAddress,
  getPublicKeyFromAddress,
  getTransactionDecoder,
  verifyOffchainMessageEnvelope,
  verifySignature,
  type Address,
} from '@solana/kit'
import {APPROVED, keydKit} from '../../../test/helpers/keyd-kit.js'
import type {Policy} from './policy.js'
import {associatedTokenAddress, findProgramAddress} from './spl.js'
import {base58Decode} from './base58.js'

const operator = {role: 'operator' as const, actor: 'operator:test'}
const agent = {role: 'agent' as const, actor: 'agent:osmoda'}
const BLOCKHASH = 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N'
const USDC = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v'
const TOKEN = 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA'
const TOKEN_2022 = 'TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb'
const ATA_PROGRAM = 'ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA1knL'
const SYSTEM = '11111111111111111111111111111111'
const COMPUTE_BUDGET = 'ComputeBudget111111111111111111111111111111'

const tokenPolicy: Policy = {
  version: 1,
  default_effect: 'deny',
  rules: [
    {id: 'sol-native', effect: 'allow', actions: ['send'], chains: ['solana'], max_per_tx: '10000000000', scope: 'wallet'},
    {id: 'usdc-small', effect: 'allow', actions: ['token_transfer'], chains: ['solana'], assets: [USDC], max_per_tx: '5000000', approval_above: '1000000', scope: 'wallet'},
  ],
}

const kits: ReturnType<typeof keydKit>[] = []
afterEach(() => {
  for (const k of kits.splice(0)) k.cleanup()
})
function setup(policy?: Policy) {
  const k = keydKit({policy})
  kits.push(k)
  const {service, signing} = k.open()
  const wallet = service.createWallet({chain: 'solana', label: 'payer'}, operator)
  const recipient = service.createWallet({chain: 'solana', label: 'recipient'}, operator).address
  return {service, signing, wallet, recipient}
}

/** Decodes with kit and checks the fee payer's signature over the message bytes. */
async function decode(signedTx: string, signer: string) {
  const tx = getTransactionDecoder().decode(getBase64Encoder().encode(signedTx))
  const signature = tx.signatures[signer as Address]
  expect(signature).toBeTruthy()
  const key = await getPublicKeyFromAddress(address(signer))
  const valid = await verifySignature(key, signature as NonNullable<typeof signature>, tx.messageBytes)
  const compiled = getCompiledTransactionMessageDecoder().decode(tx.messageBytes)
  const message = decompileTransactionMessage(compiled)
  // kit's instruction types are a union per program; the tests read them as plain records.
  type Plain = {programAddress: string; accounts?: readonly {address: string; role: number}[]; data?: ArrayLike<number>}
  const instructions = (message.instructions as readonly Plain[]).map((i) => ({programAddress: i.programAddress, accounts: i.accounts ?? [], data: Buffer.from(Uint8Array.from(i.data ?? []))}))
  return {tx, valid, compiled, message: {feePayer: message.feePayer, lifetimeConstraint: message.lifetimeConstraint, instructions}}
}

const le = (bytes: Buffer | undefined) => bytes ?? Buffer.alloc(0)
const ata = async (owner: string, tokenProgram: string, mint: string) => {
  const enc = getAddressEncoder()
  const [pda] = await getProgramDerivedAddress({programAddress: address(ATA_PROGRAM), seeds: [enc.encode(address(owner)), enc.encode(address(tokenProgram)), enc.encode(address(mint))]})
  return pda as string
}

describe('Solana transactions decoded by @solana/kit', () => {
  it('a native transfer with a compute budget: kit verifies the signature and reads every field', async () => {
    // Given a Solana wallet and the seed policy
    const {signing, wallet, recipient} = setup()
    // When the agent sends 1.5 SOL with a priority fee
    const out = await signing.send({wallet_id: wallet.id, to: recipient, amount: '1.5', chain_params: {recent_blockhash: BLOCKHASH, compute_unit_limit: 300, compute_unit_price_micro_lamports: 10_000}}, agent)
    const {tx, valid, compiled, message} = await decode(out.signed_tx, wallet.address)
    // Then the signature verifies, the tx hash is that signature, and the message says what was asked
    expect(valid).toBe(true)
    expect(Object.keys(tx.signatures)).toEqual([wallet.address])
    expect(Buffer.from(base58Decode(out.tx_hash) as Uint8Array).equals(Buffer.from(tx.signatures[wallet.address as Address] as Uint8Array))).toBe(true)
    expect(compiled.version).toBe('legacy')
    expect(message.feePayer.address).toBe(wallet.address)
    expect((message.lifetimeConstraint as {blockhash: string}).blockhash).toBe(BLOCKHASH)
    expect(message.instructions.map((i) => i.programAddress)).toEqual([COMPUTE_BUDGET, COMPUTE_BUDGET, SYSTEM])
    const [limit, price, transfer] = message.instructions
    expect(le(limit?.data).toString('hex')).toBe('022c010000') // SetComputeUnitLimit(300)
    expect(le(price?.data).readBigUInt64LE(1)).toBe(10_000n)
    expect(le(transfer?.data).readUInt32LE(0)).toBe(2) // System Transfer
    expect(le(transfer?.data).readBigUInt64LE(4)).toBe(1_500_000_000n)
    expect(transfer?.accounts?.map((a) => [a.address, a.role])).toEqual([[wallet.address, 3], [recipient, 1]]) // writable signer, writable
  })

  it('an SPL TransferChecked between derived ATAs: kit derives the same accounts and reads amount and decimals', async () => {
    // Given a policy that lets the agent move up to 1 USDC without approval
    const {signing, wallet, recipient} = setup(tokenPolicy)
    // When the agent sends 0.75 USDC (6 decimals)
    const out = await signing.send({wallet_id: wallet.id, to: recipient, token: USDC, amount: '0.75', chain_params: {recent_blockhash: BLOCKHASH, decimals: 6}}, agent)
    expect(out).toMatchObject({tx_type: 'token_transfer', asset: USDC, to: recipient, value: '750000', rent_lamports: '0', estimated_fee: '5000', policy: {decision: 'allowed', rule_ids: ['usdc-small']}})
    const {valid, message} = await decode(out.signed_tx, wallet.address)
    // Then one instruction, to the Token program, with accounts [source ATA, mint, destination ATA, owner]
    expect(valid).toBe(true)
    expect(message.instructions.map((i) => i.programAddress)).toEqual([TOKEN])
    const ix = message.instructions[0]
    const source = await ata(wallet.address, TOKEN, USDC)
    const destination = await ata(recipient, TOKEN, USDC)
    expect(ix?.accounts?.map((a) => [a.address, a.role])).toEqual([[source, 1], [USDC, 0], [destination, 1], [wallet.address, 3]])
    const data = le(ix?.data)
    expect([data[0], data.readBigUInt64LE(1), data[9], data.length]).toEqual([12, 750_000n, 6, 10])
  })

  it('Token-2022 with create_ata prepends CreateIdempotent and reports the rent', async () => {
    const {signing, wallet, recipient} = setup(tokenPolicy)
    // When the operator builds a Token-2022 transfer that creates the recipient's account
    const out = await signing.buildTx({wallet_id: wallet.id, tx_type: 'token_transfer', to: recipient, token: USDC, value: '42', chain_params: {recent_blockhash: BLOCKHASH, decimals: 6, token_program: TOKEN_2022, create_ata: true, compute_unit_limit: 60_000}}, operator)
    // Then rent is the 170-byte Token-2022 account's rent-exempt minimum
    expect(out.rent_lamports).toBe(String((170n + 128n) * 3480n * 2n))
    const {valid, message} = await decode(out.signed_tx, wallet.address)
    expect(valid).toBe(true)
    expect(message.instructions.map((i) => i.programAddress)).toEqual([COMPUTE_BUDGET, ATA_PROGRAM, TOKEN_2022])
    const destination = await ata(recipient, TOKEN_2022, USDC)
    const create = message.instructions[1]
    expect(le(create?.data).toString('hex')).toBe('01')
    expect(create?.accounts?.map((a) => [a.address, a.role])).toEqual([[wallet.address, 3], [destination, 1], [recipient, 0], [USDC, 0], [SYSTEM, 0], [TOKEN_2022, 0]])
    expect(message.instructions[2]?.accounts?.[0]?.address).toBe(await ata(wallet.address, TOKEN_2022, USDC))
  })

  it('a token amount above approval_above needs the approval, then signs', async () => {
    const {signing, wallet, recipient} = setup(tokenPolicy)
    const body = {wallet_id: wallet.id, to: recipient, token: USDC, amount: '2', chain_params: {recent_blockhash: BLOCKHASH, decimals: 6}}
    await expect(signing.send(body, agent)).rejects.toMatchObject({code: 'APPROVAL_REQUIRED'})
    const out = await signing.send({...body, approval_id: APPROVED}, agent)
    expect((await decode(out.signed_tx, wallet.address)).valid).toBe(true)
    // And above max_per_tx it is denied whatever the approval
    await expect(signing.send({...body, amount: '5.000001', approval_id: APPROVED}, agent)).rejects.toMatchObject({code: 'POLICY_DENIED', details: {rule_id: 'usdc-small'}})
  })

  it('wallet_sign (solana_offchain) produces an envelope kit decodes and verifies', async () => {
    // Given a Solana wallet
    const {signing, wallet} = setup()
    // When the agent signs a UTF-8 message with the default scheme
    const text = 'login to osmoda at 2026-11-26'
    const out = await signing.sign({wallet_id: wallet.id, payload: `0x${Buffer.from(text).toString('hex')}`}, agent)
    // Then kit reads keyd's signed bytes as a version-0 off-chain message from this signer, and the signature verifies
    const {offchainMessage} = await import('./solana.js')
    const content = offchainMessage(base58Decode(wallet.address) as Uint8Array, new TextEncoder().encode(text))
    const signature = getBase58Encoder().encode(out.signature)
    const envelope = getOffchainMessageEnvelopeDecoder().decode(Uint8Array.from([1, ...signature, ...content]))
    await expect(verifyOffchainMessageEnvelope(envelope)).resolves.toBeUndefined()
    expect(getOffchainMessageDecoder().decode(envelope.content)).toMatchObject({version: 0, content: {format: 0, text}, requiredSignatories: [{address: wallet.address}]})
    // And a signature over other text does not verify
    const other = offchainMessage(base58Decode(wallet.address) as Uint8Array, new TextEncoder().encode(`${text}!`))
    await expect(verifyOffchainMessageEnvelope(getOffchainMessageEnvelopeDecoder().decode(Uint8Array.from([1, ...signature, ...other])))).rejects.toThrow()
  })

  it('derives program addresses exactly as kit does, for many owners and mints', async () => {
    // Given 40 random owner/mint pairs (some hashes land on the curve, so bumps below 255 occur)
    const {randomBytes} = await import('node:crypto')
    const {base58Encode} = await import('./base58.js')
    const bumps = new Set<number>()
    for (let i = 0; i < 40; i++) {
      const owner = base58Encode(randomBytes(32))
      const mint = base58Encode(randomBytes(32))
      const ours = associatedTokenAddress(base58Decode(owner) as Uint8Array, base58Decode(mint) as Uint8Array, base58Decode(TOKEN) as Uint8Array)
      expect(base58Encode(ours)).toBe(await ata(owner, TOKEN, mint))
      bumps.add(findProgramAddress([base58Decode(owner) as Uint8Array, base58Decode(TOKEN) as Uint8Array, base58Decode(mint) as Uint8Array], base58Decode(ATA_PROGRAM) as Uint8Array).bump)
    }
    expect(Math.max(...bumps)).toBe(255)
  })

  it.each([
    ['no decimals', {decimals: undefined}, 'chain_params.decimals'],
    ['an unknown token program', {decimals: 6, token_program: SYSTEM}, 'chain_params.token_program'],
    ['a mint that is not base58', {decimals: 6, mint: '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB'}, 'token'],
    ['token fields on a native transfer', {decimals: 6, native: true}, 'chain_params'],
  ])('refuses an SPL build with %s', async (_name, v, field) => {
    const {signing, wallet, recipient} = setup(tokenPolicy)
    const opts = v as {decimals?: number; token_program?: string; mint?: string; native?: boolean}
    const chainParams = {recent_blockhash: BLOCKHASH, ...(opts.decimals === undefined ? {} : {decimals: opts.decimals}), ...(opts.token_program ? {token_program: opts.token_program} : {})}
    const input = opts.native
      ? {wallet_id: wallet.id, tx_type: 'transfer' as const, to: recipient, value: '1', chain_params: chainParams}
      : {wallet_id: wallet.id, tx_type: 'token_transfer' as const, to: recipient, token: opts.mint ?? USDC, value: '1', chain_params: chainParams}
    const err = await signing.buildTx(input, operator).then(
      () => null,
      (e: unknown) => e as {code: string; message: string; details: unknown},
    )
    expect(err?.code).toMatch(/VALIDATION_FAILED|INVALID_ADDRESS/)
    expect(JSON.stringify(err?.details)).toContain(field)
  })
})
