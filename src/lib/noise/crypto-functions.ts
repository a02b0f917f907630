// The Noise "crypto functions" (spec rev 34 §4) on node:crypto: OpenSSL is 10–30× faster here than
// pure JS for X25519, ChaCha20-Poly1305, SHA-256 and BLAKE2s (shared/DEPENDENCIES.md), and the
// session's throughput goal depends on it. Keys travel as raw 32-byte Buffers, as Noise defines them;
// KeyObjects are built only at the call that needs one.
import {type CipherGCMTypes, type KeyObject, createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync} from 'node:crypto'

/** A raw X25519 key pair (32-byte private scalar seed, 32-byte public u-coordinate). */
export interface DhKeyPair {
  publicKey: Buffer
  privateKey: Buffer
}

/** Noise DH functions: 25519 is the only one osmoda speaks. */
export interface DhFunctions {
  readonly name: string
  readonly dhLen: number
  generateKeyPair(privateKey?: Buffer): DhKeyPair
  dh(keyPair: DhKeyPair, publicKey: Buffer): Buffer
}

/** Noise cipher functions. `n` is a bigint only for Rekey's 2^64-1 nonce. */
export interface CipherFunctions {
  readonly name: string
  /** Encrypts the concatenation of `parts` without joining them; returns the ciphertext pieces then the 16-byte tag. */
  seal(key: Buffer, n: number | bigint, ad: Buffer, parts: readonly Buffer[]): Buffer[]
  /** Authenticates and decrypts; throws on a bad tag. */
  open(key: Buffer, n: number | bigint, ad: Buffer, ciphertext: Buffer): Buffer
  /** `open` over a ciphertext ‖ tag split across `pieces`; returns plaintext pieces, released only after the tag verified. */
  openPieces(key: Buffer, n: number | bigint, ad: Buffer, pieces: readonly Buffer[], length: number): Buffer[]
}

/** Noise hash functions with the HMAC that HKDF needs. */
export interface HashFunctions {
  readonly name: string
  readonly hashLen: number
  readonly blockLen: number
  hash(...parts: Buffer[]): Buffer
  hmac(key: Buffer, ...parts: Buffer[]): Buffer
}

/** AEAD tag length of every Noise cipher. */
export const TAG_LEN = 16

// Raw keys enter node:crypto as JWK: importing PKCS#8/SPKI DER costs ~10× more (OpenSSL's decoder
// framework), which alone put a handshake over its 10 ms budget. JWK import demands an `x` next to
// `d` but derives the public key from `d`; if a Node version ever refused the placeholder, the DER
// path below still works, only slower.
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex')
const X_PLACEHOLDER = Buffer.alloc(32).toString('base64url')
// Private KeyObjects per raw key Buffer, so a node's static key is imported once, not per handshake.
// The bytes are kept too: a Buffer overwritten in place (a rotated key) must not reuse the old key.
const privateKeyObjects = new WeakMap<Buffer, {raw: Buffer; key: KeyObject}>()

function x25519PrivateKeyObject(privateKey: Buffer): KeyObject {
  const cached = privateKeyObjects.get(privateKey)
  if (cached && cached.raw.equals(privateKey)) return cached.key
  if (privateKey.length !== 32) throw new RangeError('an X25519 private key is 32 bytes')
  let key: KeyObject
  try {
    key = createPrivateKey({key: {kty: 'OKP', crv: 'X25519', d: privateKey.toString('base64url'), x: X_PLACEHOLDER}, format: 'jwk'})
  } catch {
    key = createPrivateKey({key: Buffer.concat([PKCS8_X25519, privateKey]), format: 'der', type: 'pkcs8'})
  }
  privateKeyObjects.set(privateKey, {raw: Buffer.from(privateKey), key})
  return key
}

/** X25519 public key of a raw private key. */
export function x25519PublicKey(privateKey: Buffer): Buffer {
  return Buffer.from(createPublicKey(x25519PrivateKeyObject(privateKey)).export({format: 'jwk'}).x as string, 'base64url')
}

/** Noise `25519`: OpenSSL rejects an all-zero shared secret (a low-order peer key), which fails the handshake. */
export const DH_25519: DhFunctions = {
  name: '25519',
  dhLen: 32,
  generateKeyPair(privateKey) {
    if (privateKey) {
      const copy = Buffer.from(privateKey)
      return {privateKey: copy, publicKey: x25519PublicKey(copy)}
    }
    const pair = generateKeyPairSync('x25519')
    const jwk = pair.privateKey.export({format: 'jwk'})
    const raw = Buffer.from(jwk.d as string, 'base64url')
    privateKeyObjects.set(raw, {raw: Buffer.from(raw), key: pair.privateKey})
    return {privateKey: raw, publicKey: Buffer.from(jwk.x as string, 'base64url')}
  },
  dh(keyPair, publicKey) {
    if (publicKey.length !== 32) throw new RangeError('an X25519 public key is 32 bytes')
    const pub = createPublicKey({key: {kty: 'OKP', crv: 'X25519', x: publicKey.toString('base64url')}, format: 'jwk'})
    return diffieHellman({privateKey: x25519PrivateKeyObject(keyPair.privateKey), publicKey: pub})
  },
}

const MAX_NONCE = 2n ** 64n - 1n

function nonce12(n: number | bigint, littleEndian: boolean): Buffer {
  const out = Buffer.alloc(12)
  if (typeof n === 'bigint') {
    if (n < 0n || n > MAX_NONCE) throw new RangeError('nonce out of range')
    if (littleEndian) out.writeBigUInt64LE(n, 4)
    else out.writeBigUInt64BE(n, 4)
  } else {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('nonce out of range')
    const lo = n % 0x1_0000_0000
    const hi = Math.floor(n / 0x1_0000_0000)
    if (littleEndian) {
      out.writeUInt32LE(lo, 4)
      out.writeUInt32LE(hi, 8)
    } else {
      out.writeUInt32BE(hi, 4)
      out.writeUInt32BE(lo, 8)
    }
  }
  return out
}

// Typed as GCM: @types/node files chacha20-poly1305 under CCM, whose setAAD wants a plaintext length it does not need.
function aead(algorithm: 'chacha20-poly1305' | 'aes-256-gcm', name: string, littleEndian: boolean): CipherFunctions {
  return {
    name,
    seal(key, n, ad, parts) {
      const cipher = createCipheriv(algorithm as CipherGCMTypes, key, nonce12(n, littleEndian), {authTagLength: TAG_LEN})
      if (ad.length > 0) cipher.setAAD(ad)
      const out: Buffer[] = []
      // Streaming update() over the parts spares the caller a Buffer.concat of flag byte and payload.
      for (const part of parts) if (part.length > 0) out.push(cipher.update(part))
      const last = cipher.final()
      if (last.length > 0) out.push(last)
      out.push(cipher.getAuthTag())
      return out
    },
    open(key, n, ad, ciphertext) {
      if (ciphertext.length < TAG_LEN) throw new RangeError('ciphertext shorter than its tag')
      const decipher = createDecipheriv(algorithm as CipherGCMTypes, key, nonce12(n, littleEndian), {authTagLength: TAG_LEN})
      if (ad.length > 0) decipher.setAAD(ad)
      decipher.setAuthTag(ciphertext.subarray(ciphertext.length - TAG_LEN))
      const body = decipher.update(ciphertext.subarray(0, ciphertext.length - TAG_LEN))
      decipher.final() // throws on a bad tag: `body` is discarded unread
      return body
    },
    openPieces(key, n, ad, pieces, length) {
      if (length < TAG_LEN) throw new RangeError('ciphertext shorter than its tag')
      const decipher = createDecipheriv(algorithm as CipherGCMTypes, key, nonce12(n, littleEndian), {authTagLength: TAG_LEN})
      if (ad.length > 0) decipher.setAAD(ad)
      const out: Buffer[] = []
      const tag: Buffer[] = []
      let offset = 0
      const bodyEnd = length - TAG_LEN
      for (const piece of pieces) {
        const end = offset + piece.length
        if (offset < bodyEnd) out.push(decipher.update(end <= bodyEnd ? piece : piece.subarray(0, bodyEnd - offset)))
        if (end > bodyEnd) tag.push(offset >= bodyEnd ? piece : piece.subarray(bodyEnd - offset))
        offset = end
      }
      decipher.setAuthTag(tag.length === 1 ? (tag[0] as Buffer) : Buffer.concat(tag))
      decipher.final() // throws on a bad tag: `out` is discarded unread
      return out
    },
  }
}

/** Noise `ChaChaPoly`: nonce = 4 zero bytes ‖ little-endian 64-bit counter. */
export const CHACHA_POLY = aead('chacha20-poly1305', 'ChaChaPoly', true)
/** Noise `AESGCM`: nonce = 4 zero bytes ‖ big-endian 64-bit counter. */
export const AES_GCM = aead('aes-256-gcm', 'AESGCM', false)

function hashFunctions(name: string, algorithm: string, hashLen: number, blockLen: number): HashFunctions {
  return {
    name,
    hashLen,
    blockLen,
    hash(...parts) {
      const h = createHash(algorithm)
      for (const part of parts) h.update(part)
      return h.digest()
    },
    // OpenSSL's HMAC uses the digest's own block size (64 for both), which is what Noise §4.3 asks for.
    hmac(key, ...parts) {
      const h = createHmac(algorithm, key)
      for (const part of parts) h.update(part)
      return h.digest()
    },
  }
}

/** Noise `SHA256`. */
export const SHA256 = hashFunctions('SHA256', 'sha256', 32, 64)
/** Noise `BLAKE2s` (BLAKE2s-256). */
export const BLAKE2S = hashFunctions('BLAKE2s', 'blake2s256', 32, 64)

/** Noise HKDF (§4.3): two or three HASHLEN outputs from chaining key `ck` and input key material. */
export function hkdf(hash: HashFunctions, ck: Buffer, ikm: Buffer, outputs: 2 | 3): Buffer[] {
  const tempKey = hash.hmac(ck, ikm)
  const out1 = hash.hmac(tempKey, Buffer.from([1]))
  const out2 = hash.hmac(tempKey, out1, Buffer.from([2]))
  if (outputs === 2) return [out1, out2]
  return [out1, out2, hash.hmac(tempKey, out2, Buffer.from([3]))]
}
