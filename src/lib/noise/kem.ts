// The KEM behind the HFS tokens, kept to one small interface so that Node 24's native ML-KEM
// (`crypto.encapsulate`, ~20× faster) can replace @noble/post-quantum without touching the
// handshake. Seeds exist only so that test vectors are reproducible: production calls pass none.
import {randomBytes} from 'node:crypto'
import {ml_kem768} from '@noble/post-quantum/ml-kem.js'

/** A key-encapsulation mechanism as the Noise HFS extension uses it. */
export interface Kem {
  /** The name in a Noise protocol name, e.g. `MLKEM768`. */
  readonly name: string
  readonly publicKeyBytes: number
  readonly secretKeyBytes: number
  readonly ciphertextBytes: number
  readonly sharedSecretBytes: number
  /** A fresh key pair; `seed` (64 bytes: d ‖ z for ML-KEM) makes it deterministic. */
  generateKeyPair(seed?: Uint8Array): {publicKey: Uint8Array; secretKey: Uint8Array}
  /** Encapsulates to `publicKey`; throws on an invalid key. `seed` (32 bytes: m) makes it deterministic. */
  encapsulate(publicKey: Uint8Array, seed?: Uint8Array): {ciphertext: Uint8Array; sharedSecret: Uint8Array}
  /** Recovers the shared secret; a malformed-but-right-length ciphertext yields the implicit-rejection secret. */
  decapsulate(ciphertext: Uint8Array, secretKey: Uint8Array): Uint8Array
}

/** ML-KEM-768 (FIPS 203) on @noble/post-quantum. */
export const ML_KEM_768: Kem = {
  name: 'MLKEM768',
  publicKeyBytes: 1184,
  secretKeyBytes: 2400,
  ciphertextBytes: 1088,
  sharedSecretBytes: 32,
  generateKeyPair(seed) {
    if (seed !== undefined && seed.length !== 64) throw new RangeError('an ML-KEM key generation seed is 64 bytes (d ‖ z)')
    return ml_kem768.keygen(seed ?? randomBytes(64))
  },
  encapsulate(publicKey, seed) {
    if (publicKey.length !== 1184) throw new RangeError('an ML-KEM-768 encapsulation key is 1184 bytes')
    if (seed !== undefined && seed.length !== 32) throw new RangeError('an ML-KEM encapsulation seed is 32 bytes (m)')
    const {cipherText, sharedSecret} = ml_kem768.encapsulate(publicKey, seed ?? randomBytes(32))
    return {ciphertext: cipherText, sharedSecret}
  },
  decapsulate(ciphertext, secretKey) {
    if (ciphertext.length !== 1088) throw new RangeError('an ML-KEM-768 ciphertext is 1088 bytes')
    if (secretKey.length !== 2400) throw new RangeError('an ML-KEM-768 decapsulation key is 2400 bytes')
    return ml_kem768.decapsulate(ciphertext, secretKey)
  },
}
