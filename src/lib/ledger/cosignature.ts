import {createPublicKey, sign, verify, type KeyObject} from 'node:crypto'
import {UsageError, VerificationError} from '../errors.js'
import {checkpointBody, rawEd25519PublicKey} from './checkpoint.js'
import {sha256} from './sha256.js'

/** C2SP tlog-cosignature signature type byte for Ed25519 cosignatures (key id only). */
const COSIGNATURE_SIG_TYPE = 0x04
const HEADER = 'cosignature/v1\n'
// A witness name names the cosigning node: `osmoda/<instance_id>/witness`.
const WITNESS_NAME_RE = /^osmoda\/([0-9a-f]{32})\/witness$/
const COSIG_BYTES = 4 + 8 + 64
const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/

/** A C2SP Ed25519 cosignature as osmoda stores and sends it. */
export interface Cosignature {
  /** The cosigner's key name, `osmoda/<instance_id>/witness`. */
  witness: string
  /** Hex of the 4-byte C2SP key id. */
  key_id: string
  /** base64(key id ‖ u64be timestamp ‖ Ed25519 signature): the value of the note's signature line. */
  cosignature: string
  /** The cosignature's timestamp as RFC 3339 (whole seconds). */
  ts: string
}

/** The checkpoint a cosignature covers: the note body `<origin>\n<size>\n<root>\n`. */
export interface CosignedHead {
  origin: string
  size: number
  /** 32-byte root, or its base64. */
  rootHash: Buffer | string
}

/** The witness key name of a node: `osmoda/<instance_id>/witness`. */
export function witnessName(instanceId: string): string {
  if (!/^[0-9a-f]{32}$/.test(instanceId)) throw new UsageError(`instance id ${JSON.stringify(instanceId)} is not 32 lowercase hex`)
  return `osmoda/${instanceId}/witness`
}

/** The instance id inside a witness key name, or null when the name is not one of ours. */
export function witnessInstanceId(name: string): string | null {
  return WITNESS_NAME_RE.exec(name)?.[1] ?? null
}

/** C2SP cosignature key id: SHA-256(name ‖ 0x0A ‖ 0x04 ‖ Ed25519 public key)[:4]. */
export function cosignatureKeyId(name: string, ed25519PublicKey: Buffer): Buffer {
  if (ed25519PublicKey.length !== 32) throw new UsageError(`an Ed25519 public key is 32 bytes, got ${ed25519PublicKey.length}`)
  return sha256(Buffer.concat([Buffer.from(name, 'utf8'), Buffer.from([0x0a, COSIGNATURE_SIG_TYPE]), ed25519PublicKey])).subarray(0, 4)
}

function rootBuffer(root: Buffer | string): Buffer {
  const bytes = typeof root === 'string' ? Buffer.from(root, 'base64') : root
  if (bytes.length !== 32) throw new UsageError('a root hash is 32 bytes', {details: ['root_hash: base64 of 32 bytes']})
  return bytes
}

// The signed message of C2SP cosignature/v1: header, time line, then the checkpoint body.
function signedMessage(head: CosignedHead, timestamp: bigint): Buffer {
  return Buffer.from(`${HEADER}time ${timestamp}\n${checkpointBody(head.origin, head.size, rootBuffer(head.rootHash))}`, 'utf8')
}

/** Cosigns a checkpoint as witness `name` at `nowMs` (the timestamp is whole seconds). */
export function signCosignature(head: CosignedHead, name: string, privateKey: KeyObject, nowMs: number): Cosignature {
  const seconds = BigInt(Math.floor(nowMs / 1000))
  const id = cosignatureKeyId(name, rawEd25519PublicKey(privateKey))
  const stamp = Buffer.alloc(8)
  stamp.writeBigUInt64BE(seconds)
  const signature = sign(null, signedMessage(head, seconds), privateKey)
  return {witness: name, key_id: id.toString('hex'), cosignature: Buffer.concat([id, stamp, signature]).toString('base64'), ts: new Date(Number(seconds) * 1000).toISOString()}
}

/** An Ed25519 public KeyObject from its raw 32 bytes. */
export function ed25519PublicKeyFromRaw(raw: Buffer): KeyObject {
  if (raw.length !== 32) throw new UsageError(`an Ed25519 public key is 32 bytes, got ${raw.length}`)
  return createPublicKey({key: {kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url')}, format: 'jwk'})
}

/**
 * Verifies a cosignature by witness `name` with its raw Ed25519 key over `head`; returns the
 * cosignature's timestamp (ms) or throws VerificationError saying what does not match.
 */
export function verifyCosignature(head: CosignedHead, name: string, publicKeyRaw: Buffer, cosignature: string): number {
  const fail = (why: string): never => {
    throw new VerificationError(`cosignature by ${name} over ${head.origin} size ${head.size}: ${why}`, {details: {witness: name, size: head.size, reason: why}})
  }
  if (!BASE64_RE.test(cosignature)) fail('not base64')
  const bytes = Buffer.from(cosignature, 'base64')
  if (bytes.length !== COSIG_BYTES) fail(`${bytes.length} bytes, expected ${COSIG_BYTES} (key id, timestamp, Ed25519 signature)`)
  if (!bytes.subarray(0, 4).equals(cosignatureKeyId(name, publicKeyRaw))) fail('key id does not belong to this witness key')
  const timestamp = bytes.readBigUInt64BE(4)
  if (timestamp > 2n ** 63n - 1n) fail('timestamp out of range')
  if (!verify(null, signedMessage(head, timestamp), ed25519PublicKeyFromRaw(publicKeyRaw), bytes.subarray(12))) fail('signature does not verify')
  return Number(timestamp) * 1000
}
