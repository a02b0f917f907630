import {randomBytes} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {CipherState} from './cipher-state.js'
import {AES_GCM, CHACHA_POLY, DH_25519, x25519PublicKey} from './crypto-functions.js'
import {FrameReader} from './frame-reader.js'

describe('noise crypto functions', () => {
  it.each([CHACHA_POLY, AES_GCM])('$name: openPieces matches open for every split point, tag straddles included', (cipher) => {
    // Given one sealed message
    const key = randomBytes(32)
    const ad = Buffer.from('ad')
    const sealed = Buffer.concat(cipher.seal(key, 7, ad, [Buffer.from([0]), randomBytes(100)]))
    const plain = cipher.open(key, 7, ad, sealed)
    for (let a = 0; a <= sealed.length; a += 3) {
      for (const b of [a, Math.min(sealed.length, a + 1), Math.min(sealed.length, a + 9), sealed.length]) {
        // When it is decrypted from three pieces cut at a and b
        const pieces = [sealed.subarray(0, a), sealed.subarray(a, b), sealed.subarray(b)]
        // Then the plaintext is the same
        expect(Buffer.concat(cipher.openPieces(key, 7, ad, pieces, sealed.length)).equals(plain), `cut ${a}/${b}`).toBe(true)
      }
    }
    // And a flipped tag bit in a straddling piece is refused
    const bad = Buffer.from(sealed)
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1
    expect(() => cipher.openPieces(key, 7, ad, [bad.subarray(0, bad.length - 5), bad.subarray(bad.length - 5)], bad.length)).toThrow()
    expect(() => cipher.openPieces(key, 8, ad, [sealed], sealed.length)).toThrow()
  })

  it('CipherState: nonces advance only on success, Rekey changes the key deterministically', () => {
    const key = randomBytes(32)
    const [a, b] = [new CipherState(CHACHA_POLY, key), new CipherState(CHACHA_POLY, key)]
    const ct = a.encryptWithAd(Buffer.alloc(0), Buffer.from('x'))
    const tampered = Buffer.from(ct)
    tampered[0] = (tampered[0] as number) ^ 1
    expect(() => b.decryptWithAd(Buffer.alloc(0), tampered)).toThrow()
    expect(b.nonce).toBe(0)
    expect(b.decryptWithAd(Buffer.alloc(0), ct).toString()).toBe('x')
    a.rekey()
    b.rekey()
    expect(a.key?.equals(key)).toBe(false)
    expect(a.key?.equals(b.key as Buffer)).toBe(true)
    expect(b.decryptWithAd(Buffer.alloc(0), a.encryptWithAd(Buffer.alloc(0), Buffer.from('y'))).toString()).toBe('y')
  })

  it('X25519 from raw keys agrees both ways and refuses a low-order point', () => {
    const [a, b] = [DH_25519.generateKeyPair(), DH_25519.generateKeyPair()]
    expect(DH_25519.dh(a, b.publicKey).equals(DH_25519.dh(b, a.publicKey))).toBe(true)
    expect(x25519PublicKey(a.privateKey).equals(a.publicKey)).toBe(true)
    expect(() => DH_25519.dh(a, Buffer.alloc(32))).toThrow()
    // And a key Buffer overwritten in place (rotation) is re-imported, not served from the cache
    const c = DH_25519.generateKeyPair()
    c.privateKey.set(b.privateKey)
    expect(DH_25519.dh(c, a.publicKey).equals(DH_25519.dh(b, a.publicKey))).toBe(true)
  })

  it('FrameReader: frames split across and packed within chunks come out whole, one call each', () => {
    const frames = [randomBytes(5), Buffer.alloc(0), randomBytes(70000 % 65536), randomBytes(65535)]
    const wire = Buffer.concat(frames.map((f) => Buffer.concat([Buffer.from([f.length >> 8, f.length & 0xff]), f])))
    for (const step of [1, 3, 1000, 65536, wire.length]) {
      const got: Buffer[] = []
      const reader = new FrameReader((pieces, length) => got.push(Buffer.concat(pieces, length)))
      for (let i = 0; i < wire.length; i += step) reader.push(wire.subarray(i, i + step))
      expect(got.map((g) => g.toString('hex')), `step ${step}`).toEqual(frames.map((f) => f.toString('hex')))
    }
  })
})
