// Noise CipherState and SymmetricState (spec rev 34 §5.1, §5.2): the nonce discipline and the
// chaining of h and ck that every handshake pattern shares. Kept apart from the pattern engine so
// the transport path (session.ts) uses exactly the CipherState the vectors check.
import {type CipherFunctions, type HashFunctions, hkdf} from './crypto-functions.js'

const EMPTY = Buffer.alloc(0)
const MAX_NONCE = 2n ** 64n - 1n
const ZEROS_32 = Buffer.alloc(32)

/** A key and its nonce counter; without a key, encrypt and decrypt pass data through (handshake only). */
export class CipherState {
  private k: Buffer | null = null
  // A JS number is exact up to 2^53, far beyond any connection's message count; `n` stops there
  // rather than wrapping, which keeps Noise's rule that a nonce is never reused.
  private n = 0

  constructor(private readonly cipher: CipherFunctions, key?: Buffer) {
    if (key) this.initializeKey(key)
  }

  /** Sets a new key and restarts the nonce at 0. */
  initializeKey(key: Buffer): void {
    if (key.length !== 32) throw new RangeError('a Noise cipher key is 32 bytes')
    this.k = Buffer.from(key)
    this.n = 0
  }

  /** True once a key is set. */
  hasKey(): boolean {
    return this.k !== null
  }

  /** The current key, for interop tests that compare Split() output with published vectors. */
  get key(): Buffer | null {
    return this.k === null ? null : Buffer.from(this.k)
  }

  /** The next nonce to be used. */
  get nonce(): number {
    return this.n
  }

  /** EncryptWithAd: ciphertext ‖ tag, or the plaintext itself when no key is set. */
  encryptWithAd(ad: Buffer, plaintext: Buffer): Buffer {
    if (this.k === null) return plaintext
    return Buffer.concat(this.encryptParts(ad, [plaintext]))
  }

  /** EncryptWithAd over the concatenation of `parts`, returned as pieces (ciphertext…, tag) for a vectored write. */
  encryptParts(ad: Buffer, parts: readonly Buffer[]): Buffer[] {
    if (this.k === null) throw new Error('encryptParts needs a key')
    const n = this.takeNonce()
    return this.cipher.seal(this.k, n, ad, parts)
  }

  /** DecryptWithAd; throws on authentication failure, and then the nonce is not advanced. */
  decryptWithAd(ad: Buffer, ciphertext: Buffer): Buffer {
    if (this.k === null) return ciphertext
    if (!Number.isSafeInteger(this.n + 1)) throw new Error('nonce space exhausted: rekey or reconnect')
    const plaintext = this.cipher.open(this.k, this.n, ad, ciphertext)
    this.n++
    return plaintext
  }

  /** DecryptWithAd over a ciphertext split across `pieces` (see FrameReader); returns plaintext pieces. */
  decryptPieces(ad: Buffer, pieces: readonly Buffer[], length: number): Buffer[] {
    if (this.k === null) throw new Error('decryptPieces needs a key')
    if (!Number.isSafeInteger(this.n + 1)) throw new Error('nonce space exhausted: rekey or reconnect')
    const plaintext = this.cipher.openPieces(this.k, this.n, ad, pieces, length)
    this.n++
    return plaintext
  }

  /** Noise Rekey(): k = first 32 bytes of ENCRYPT(k, 2^64-1, zerolen, zeros); the nonce continues. */
  rekey(): void {
    if (this.k === null) throw new Error('rekey needs a key')
    const [ct] = this.cipher.seal(this.k, MAX_NONCE, EMPTY, [ZEROS_32])
    if (!ct || ct.length < 32) throw new Error('cipher returned a short rekey block')
    this.k = Buffer.from(ct.subarray(0, 32))
  }

  private takeNonce(): number {
    if (!Number.isSafeInteger(this.n + 1)) throw new Error('nonce space exhausted: rekey or reconnect')
    return this.n++
  }
}

/** The handshake's chaining key `ck` and transcript hash `h` (spec §5.2). */
export class SymmetricState {
  private readonly cs: CipherState
  private ck: Buffer
  private h: Buffer

  constructor(private readonly cipher: CipherFunctions, private readonly hash: HashFunctions, protocolName: string) {
    this.cs = new CipherState(cipher)
    const name = Buffer.from(protocolName, 'ascii')
    this.h = name.length <= hash.hashLen ? Buffer.concat([name, Buffer.alloc(hash.hashLen - name.length)]) : hash.hash(name)
    this.ck = this.h
  }

  /** True once MixKey has run. */
  hasKey(): boolean {
    return this.cs.hasKey()
  }

  /** A copy of the current handshake hash `h`. */
  handshakeHash(): Buffer {
    return Buffer.from(this.h)
  }

  /** MixKey(ikm). */
  mixKey(ikm: Buffer): void {
    const [ck, tempK] = hkdf(this.hash, this.ck, ikm, 2) as [Buffer, Buffer]
    this.ck = ck
    this.cs.initializeKey(tempK.subarray(0, 32))
  }

  /** MixHash(data). */
  mixHash(data: Buffer): void {
    this.h = this.hash.hash(this.h, data)
  }

  /** MixKeyAndHash(ikm): used by psk tokens. */
  mixKeyAndHash(ikm: Buffer): void {
    const [ck, tempH, tempK] = hkdf(this.hash, this.ck, ikm, 3) as [Buffer, Buffer, Buffer]
    this.ck = ck
    this.mixHash(tempH)
    this.cs.initializeKey(tempK.subarray(0, 32))
  }

  /** EncryptAndHash(plaintext). */
  encryptAndHash(plaintext: Buffer): Buffer {
    const ciphertext = this.cs.encryptWithAd(this.h, plaintext)
    this.mixHash(ciphertext)
    return ciphertext
  }

  /** DecryptAndHash(ciphertext); throws on authentication failure. */
  decryptAndHash(ciphertext: Buffer): Buffer {
    const plaintext = this.cs.decryptWithAd(this.h, ciphertext)
    this.mixHash(ciphertext)
    return plaintext
  }

  /** Split(): [initiator→responder, responder→initiator] CipherStates. */
  split(): [CipherState, CipherState] {
    const [k1, k2] = hkdf(this.hash, this.ck, Buffer.alloc(0), 2) as [Buffer, Buffer]
    return [new CipherState(this.cipher, k1.subarray(0, 32)), new CipherState(this.cipher, k2.subarray(0, 32))]
  }
}
