import {createHash, generateKeyPairSync, verify} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {OsmodaError} from '../errors.js'
import {rawEd25519PublicKey} from './checkpoint.js'
import {cosignatureKeyId, ed25519PublicKeyFromRaw, signCosignature, verifyCosignature, witnessInstanceId, witnessName} from './cosignature.js'

const ORIGIN = 'osmoda/00112233445566778899aabbccddeeff/ledger'
const ROOT = createHash('sha256').update('root').digest()
const WITNESS = witnessName('ffeeddccbbaa99887766554433221100')
const NOW = Date.parse('2026-11-26T05:00:00.750Z')

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return error instanceof OsmodaError ? error.code : `not an OsmodaError: ${String(error)}`
  }
  return undefined
}

describe('C2SP cosignatures', () => {
  const {privateKey} = generateKeyPairSync('ed25519')
  const pub = rawEd25519PublicKey(privateKey)
  const head = {origin: ORIGIN, size: 42, rootHash: ROOT}

  it('signs cosignature/v1: key id (type 0x04) ‖ u64 seconds ‖ Ed25519 over header, time line and body', () => {
    // When a witness cosigns a checkpoint
    const cosig = signCosignature(head, WITNESS, privateKey, NOW)
    // Then the bytes are the C2SP timestamped_signature with the 0x04 key id
    const bytes = Buffer.from(cosig.cosignature, 'base64')
    expect(bytes).toHaveLength(76)
    const expectedId = createHash('sha256').update(Buffer.concat([Buffer.from(WITNESS), Buffer.from([0x0a, 0x04]), pub])).digest().subarray(0, 4)
    expect(bytes.subarray(0, 4)).toEqual(expectedId)
    expect(cosig.key_id).toBe(expectedId.toString('hex'))
    expect(bytes.readBigUInt64BE(4)).toBe(BigInt(Math.floor(NOW / 1000)))
    expect(cosig.ts).toBe('2026-11-26T05:00:00.000Z')
    // And the signature is over exactly the documented message
    const message = `cosignature/v1\ntime ${Math.floor(NOW / 1000)}\n${ORIGIN}\n42\n${ROOT.toString('base64')}\n`
    expect(verify(null, Buffer.from(message), ed25519PublicKeyFromRaw(pub), bytes.subarray(12))).toBe(true)
    // And it verifies, returning its timestamp
    expect(verifyCosignature(head, WITNESS, pub, cosig.cosignature)).toBe(Math.floor(NOW / 1000) * 1000)
    expect(verifyCosignature({...head, rootHash: ROOT.toString('base64')}, WITNESS, pub, cosig.cosignature)).toBeGreaterThan(0)
  })

  it('rejects another head, another key, another name and damaged bytes', () => {
    // Given a valid cosignature
    const cosig = signCosignature(head, WITNESS, privateKey, NOW)
    const other = rawEd25519PublicKey(generateKeyPairSync('ed25519').privateKey)
    const flipped = Buffer.from(cosig.cosignature, 'base64')
    flipped[40] = (flipped[40] as number) ^ 1
    const restamped = Buffer.from(cosig.cosignature, 'base64')
    restamped.writeBigUInt64BE(BigInt(Math.floor(NOW / 1000) + 1), 4)
    // Then every mismatch is VERIFICATION_FAILED
    expect(codeOf(() => verifyCosignature({...head, size: 43}, WITNESS, pub, cosig.cosignature))).toBe('VERIFICATION_FAILED')
    expect(codeOf(() => verifyCosignature({...head, rootHash: createHash('sha256').update('x').digest()}, WITNESS, pub, cosig.cosignature))).toBe('VERIFICATION_FAILED')
    expect(codeOf(() => verifyCosignature(head, WITNESS, other, cosig.cosignature))).toBe('VERIFICATION_FAILED')
    expect(codeOf(() => verifyCosignature(head, witnessName('0'.repeat(32)), pub, cosig.cosignature))).toBe('VERIFICATION_FAILED')
    expect(codeOf(() => verifyCosignature(head, WITNESS, pub, flipped.toString('base64')))).toBe('VERIFICATION_FAILED')
    expect(codeOf(() => verifyCosignature(head, WITNESS, pub, restamped.toString('base64')))).toBe('VERIFICATION_FAILED')
    expect(codeOf(() => verifyCosignature(head, WITNESS, pub, 'not base64!'))).toBe('VERIFICATION_FAILED')
    expect(codeOf(() => verifyCosignature(head, WITNESS, pub, Buffer.alloc(12).toString('base64')))).toBe('VERIFICATION_FAILED')
    // And a key of the wrong length is a usage error
    expect(codeOf(() => verifyCosignature(head, WITNESS, Buffer.alloc(31), cosig.cosignature))).toBe('VALIDATION_FAILED')
    expect(codeOf(() => cosignatureKeyId(WITNESS, Buffer.alloc(33)))).toBe('VALIDATION_FAILED')
  })

  it('maps witness names to instance ids and back', () => {
    expect(witnessInstanceId(WITNESS)).toBe('ffeeddccbbaa99887766554433221100')
    expect(witnessInstanceId('osmoda/FFEE/witness')).toBeNull()
    expect(witnessInstanceId('example.com/w1')).toBeNull()
    expect(codeOf(() => witnessName('../x'))).toBe('VALIDATION_FAILED')
  })
})
