import {createPrivateKey, createPublicKey, sign as nodeSign} from 'node:crypto'
import {secp256k1} from '@noble/curves/secp256k1.js'
import {base58Encode} from './base58.js'
import {ethAddressOf} from './eth.js'
import type {Chain} from './policy.js'

// PKCS#8 DER prefix of an Ed25519 private key (RFC 8410): the 32-byte seed follows.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

/** A fresh secret from the CSPRNG: a valid secp256k1 scalar (ETH) or an Ed25519 seed (SOL). */
export function generateSecret(chain: Chain): Uint8Array {
  return chain === 'ethereum' ? secp256k1.utils.randomSecretKey() : crypto.getRandomValues(new Uint8Array(32))
}

function ed25519Key(seed: Uint8Array) {
  const der = Buffer.concat([ED25519_PKCS8_PREFIX, seed])
  try {
    return createPrivateKey({key: der, format: 'der', type: 'pkcs8'})
  } finally {
    der.fill(0)
  }
}

/** The address of a secret: EIP-55 (ETH) or the base58 Ed25519 public key (SOL). */
export function addressOf(chain: Chain, secret: Uint8Array): string {
  if (chain === 'ethereum') return ethAddressOf(secret)
  const spki = createPublicKey(ed25519Key(secret)).export({format: 'der', type: 'spki'})
  return base58Encode(spki.subarray(spki.length - 32))
}

/** An Ed25519 signature over `message` with the wallet's seed. */
export function ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  return nodeSign(null, message, ed25519Key(seed))
}
