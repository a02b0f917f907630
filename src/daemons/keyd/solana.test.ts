import {describe, expect, it} from 'vitest'
import {createPublicKey, verify} from 'node:crypto'
import {base58Decode, base58Encode} from './base58.js'
import {addressOf, ed25519Sign, generateSecret} from './chain-keys.js'
import {COMPUTE_BUDGET_PROGRAM, compactU16, offchainMessage, parseSolAddress, solFee, solTransaction, solTransferMessage} from './solana.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('Solana encoding', () => {
  it.each([[0, '00'], [127, '7f'], [128, '8001'], [255, 'ff01'], [16383, 'ff7f'], [16384, '808001'], [65535, 'ffff03']])('compact-u16 %i → %s', (n, want) => {
    expect(hex(compactU16(n))).toBe(want)
  })

  it('knows the ComputeBudget program id', () => {
    expect(COMPUTE_BUDGET_PROGRAM).toHaveLength(32)
    expect(base58Encode(COMPUTE_BUDGET_PROGRAM)).toBe('ComputeBudget111111111111111111111111111111')
  })

  it('lays out a transfer with compute budget as a legacy message (accounts before programs, programs in first use)', () => {
    // Given two addresses and a blockhash
    const from = new Uint8Array(32).fill(1)
    const to = new Uint8Array(32).fill(2)
    const blockhash = new Uint8Array(32).fill(9)
    // When the message is built
    const m = solTransferMessage({from, to, lamports: 1_000_000_000n, recentBlockhash: blockhash, computeUnitLimit: 200_000, computeUnitPriceMicroLamports: 5n})
    // Then header, accounts, blockhash and the three instructions are where the format puts them
    expect(hex(m.subarray(0, 4))).toBe('01000204')
    expect(m.subarray(4, 36)).toEqual(from)
    expect(m.subarray(36, 68)).toEqual(to)
    expect(m.subarray(68, 100)).toEqual(COMPUTE_BUDGET_PROGRAM)
    expect(m.subarray(100, 132)).toEqual(new Uint8Array(32))
    expect(m.subarray(132, 164)).toEqual(blockhash)
    const rest = hex(m.subarray(164))
    expect(rest).toBe(['03', '02 00 05 02400d0300', '02 00 09 03 0500000000000000', '03 02 0001 0c 02000000 00ca9a3b00000000'].join('').replace(/ /g, ''))
  })

  it('signs a transaction whose signature verifies over the message', () => {
    const seed = generateSecret('solana')
    const from = parseSolAddress(addressOf('solana', seed))
    const m = solTransferMessage({from, to: new Uint8Array(32).fill(3), lamports: 5n, recentBlockhash: new Uint8Array(32).fill(4)})
    const tx = solTransaction(ed25519Sign(seed, m), m)
    expect(tx[0]).toBe(1)
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), from])
    expect(verify(null, tx.subarray(65), createPublicKey({key: spki, format: 'der', type: 'spki'}), tx.subarray(1, 65))).toBe(true)
  })

  it('computes the fee with the priority part rounded up', () => {
    expect(solFee(1, 200_000, 0n)).toBe(5000n)
    expect(solFee(1, 200_000, 1n)).toBe(5001n)
    expect(solFee(1, 200_000, 10n)).toBe(5002n)
  })

  it.each(['', '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed', 'abc', '1111111111111111111111111111111I'])('refuses %j as an address', (text) => {
    expect(() => parseSolAddress(text)).toThrow(expect.objectContaining({code: 'INVALID_ADDRESS'}))
  })

  it('wraps off-chain messages in the version-0 envelope with the format by content', () => {
    const signer = new Uint8Array(32).fill(7)
    const ascii = offchainMessage(signer, new TextEncoder().encode('hello'))
    expect(Buffer.from(ascii.subarray(0, 16)).toString('latin1')).toBe('\xffsolana offchain')
    expect(ascii[16]).toBe(0)
    expect(ascii.subarray(17, 49)).toEqual(new Uint8Array(32))
    expect([ascii[49], ascii[50]]).toEqual([0, 1])
    expect(ascii.subarray(51, 83)).toEqual(signer)
    expect(hex(ascii.subarray(83))).toBe(`0500${hex(new TextEncoder().encode('hello'))}`)
    expect(offchainMessage(signer, new TextEncoder().encode('héllo'))[49]).toBe(1)
    expect(offchainMessage(signer, new TextEncoder().encode('x'.repeat(1200)))[49]).toBe(2)
    expect(() => offchainMessage(signer, Uint8Array.of(0xff, 0xfe))).toThrow(expect.objectContaining({code: 'VALIDATION_FAILED'}))
    expect(() => offchainMessage(signer, new Uint8Array(0))).toThrow(expect.objectContaining({code: 'VALIDATION_FAILED'}))
  })

  it('round-trips a generated address', () => {
    const address = addressOf('solana', generateSecret('solana'))
    expect(base58Decode(address)).toHaveLength(32)
  })
})

describe('Solana size limit', () => {
  it("refuses a transaction over Solana's 1232-byte packet and accepts one at the limit", () => {
    const signature = new Uint8Array(64)
    // 1 (count) + 64 (signature) + message
    expect(solTransaction(signature, new Uint8Array(1232 - 65))).toHaveLength(1232)
    expect(() => solTransaction(signature, new Uint8Array(1232 - 64))).toThrow(expect.objectContaining({code: 'VALIDATION_FAILED', message: expect.stringContaining('1233 bytes')}))
  })
})
