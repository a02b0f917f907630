import {readFileSync} from 'node:fs'
import {gunzipSync} from 'node:zlib'
import {describe, expect, it} from 'vitest'
import {type Kem, ML_KEM_768} from './kem.js'

// Public vectors shared beside the repository (see shared/vectors/README.md).
const VECTORS = new URL('../../../../shared/vectors/mlkem/', import.meta.url)
const load = (file: string) => JSON.parse(readFileSync(new URL(file, VECTORS), 'utf8'))
const hex = (s: string) => Buffer.from(s, 'hex')
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase()

interface Group {function?: string; tests: Record<string, string | number | boolean>[]}
const keyGen = (load('acvp-keygen-768.json') as {testGroups: Group[]}).testGroups.flatMap((g) => g.tests)
const encapDecap = (load('acvp-encapdecap-768.json') as {testGroups: Group[]}).testGroups
const group = (fn: string) => encapDecap.find((g) => g.function === fn)?.tests ?? []
const kem: Kem = ML_KEM_768

describe('ML-KEM-768 through the Kem interface (NIST ACVP v1.1.0.40, C2SP CCTV)', () => {
  it.each(keyGen.map((t) => [t.tcId, t] as const))('ACVP keyGen tcId %s: (d, z) → ek, dk', (_id, t) => {
    // Given d and z When the key pair is generated from the seed d ‖ z Then ek and dk match
    const {publicKey, secretKey} = kem.generateKeyPair(Buffer.concat([hex(t.d as string), hex(t.z as string)]))
    expect(toHex(publicKey)).toBe(t.ek)
    expect(toHex(secretKey)).toBe(t.dk)
  })

  it.each(group('encapsulation').map((t) => [t.tcId, t] as const))('ACVP encapsulation tcId %s: (ek, m) → c, k', (_id, t) => {
    const {ciphertext, sharedSecret} = kem.encapsulate(hex(t.ek as string), hex(t.m as string))
    expect(toHex(ciphertext)).toBe(t.c)
    expect(toHex(sharedSecret)).toBe(t.k)
  })

  it.each(group('decapsulation').map((t) => [t.tcId, t] as const))('ACVP decapsulation tcId %s: (dk, c) → k, implicit rejection included', (_id, t) => {
    expect(toHex(kem.decapsulate(hex(t.c as string), hex(t.dk as string)))).toBe(t.k)
  })

  it.each(group('encapsulationKeyCheck').map((t) => [t.tcId, t] as const))('ACVP encapsulation key check tcId %s: invalid ek refused', (_id, t) => {
    // Given an ek that the FIPS 203 §7.2 check accepts or refuses When encapsulating Then an invalid one throws
    const attempt = () => kem.encapsulate(hex(t.ek as string))
    if (t.testPassed) expect(attempt).not.toThrow()
    else expect(attempt).toThrow()
  })

  it('CCTV strcmp: decapsulation of a near-miss ciphertext returns the implicit-rejection key', () => {
    const [v] = load('cctv-strcmp-768.json').vectors as {dk: string; c: string; K: string}[]
    expect(Buffer.from(kem.decapsulate(hex(v!.c), hex(v!.dk))).toString('hex')).toBe(v!.K)
  })

  it('CCTV unlucky: Encaps(ek, m) and Decaps(dk, c) on the long SampleNTT path', () => {
    const [v] = load('cctv-unlucky-768.json').vectors as {ek: string; dk: string; m: string; c: string; K: string}[]
    const {ciphertext, sharedSecret} = kem.encapsulate(hex(v!.ek), hex(v!.m))
    expect(Buffer.from(ciphertext).toString('hex')).toBe(v!.c)
    expect(Buffer.from(sharedSecret).toString('hex')).toBe(v!.K)
    expect(Buffer.from(kem.decapsulate(hex(v!.c), hex(v!.dk))).toString('hex')).toBe(v!.K)
  })

  it('CCTV modulus: all 780 encapsulation keys with a coefficient ≥ q are refused', () => {
    const lines = gunzipSync(readFileSync(new URL('cctv-modulus-ML-KEM-768.txt.gz', VECTORS))).toString('utf8').split('\n').filter(Boolean)
    expect(lines).toHaveLength(780)
    const accepted = lines.filter((ek) => {
      try {
        kem.encapsulate(hex(ek))
        return true
      } catch {
        return false
      }
    })
    expect(accepted).toEqual([])
  })

  it('a random key pair round-trips and wrong sizes are refused', () => {
    const {publicKey, secretKey} = kem.generateKeyPair()
    const {ciphertext, sharedSecret} = kem.encapsulate(publicKey)
    expect(Buffer.from(kem.decapsulate(ciphertext, secretKey)).equals(Buffer.from(sharedSecret))).toBe(true)
    expect(() => kem.encapsulate(publicKey.subarray(1))).toThrow(RangeError)
    expect(() => kem.decapsulate(ciphertext.subarray(1), secretKey)).toThrow(RangeError)
    expect(() => kem.generateKeyPair(new Uint8Array(32))).toThrow(RangeError)
  })
})
