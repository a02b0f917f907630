import {createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {z} from 'zod'
import {OsmodaError} from '../../lib/errors.js'
import {instanceIdFor, rawPublicKey, type NodeIdentity} from '../../lib/identity.js'
import {canonicalJson} from '../../lib/ledger/canonical-json.js'
import type {OsmodaPaths} from '../../lib/paths.js'
import {writeFileAtomic} from '../../lib/secure-file.js'
import type {StaticKeyPair} from '../../lib/noise/session.js'

const IDENTITY_DOMAIN = 'osmoda.mesh.identity.v1'
const STATIC_DOMAIN = 'osmoda.mesh.static.v1'
const ROTATION_DOMAIN = 'osmoda.mesh.key_rotation.v1'

/** The capabilities every node of this build announces. */
export const CAPABILITIES = ['mesh.v1', 'ledger.witness', 'fleet'] as const

const Hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters')
/** An instance_id / peer_id: 32 lowercase hex (SPEC §1.9). */
export const InstanceId = z.string().regex(/^[0-9a-f]{32}$/, 'expected 32 lowercase hex characters (an instance_id)')
const B64u = z.string().regex(/^[A-Za-z0-9_-]*$/, 'expected base64url')

/** A signed identity document (SPEC §2.5). */
export const IdentityDoc = z.strictObject({
  instance_id: InstanceId,
  ed25519_pubkey: Hex32,
  noise_static_pubkey: Hex32,
  capabilities: z.array(z.string().max(64)).max(32),
  created_at: z.string().max(40),
  signature: B64u.max(100),
})
export type IdentityDoc = z.output<typeof IdentityDoc>

/** This node's keys as mesh uses them. */
export interface MeshKeys {
  doc: IdentityDoc
  signingKey: KeyObject
  ed25519Public: Buffer
  noise: StaticKeyPair
}

function domainMessage(domain: string, body: Buffer | string): Buffer {
  return Buffer.concat([Buffer.from(domain), Buffer.from([0]), typeof body === 'string' ? Buffer.from(body) : body])
}

/** An Ed25519 public key object from its raw 32 bytes. */
export function ed25519PublicKey(raw: Buffer): KeyObject {
  return createPublicKey({key: {kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url')}, format: 'jwk'})
}

/** Signs `body` under a domain tag with the node key. */
export function signDomain(key: KeyObject, domain: string, body: Buffer | string): Buffer {
  return sign(null, domainMessage(domain, body), key)
}

/** Verifies a domain-tagged Ed25519 signature; false on any malformed input. */
export function verifyDomain(publicRaw: Buffer, domain: string, body: Buffer | string, signature: Buffer): boolean {
  try {
    return signature.length === 64 && verify(null, domainMessage(domain, body), ed25519PublicKey(publicRaw), signature)
  } catch {
    return false
  }
}

/** Builds and signs the identity document for a Noise static key. */
export function signIdentityDoc(signingKey: KeyObject, noisePublic: Buffer, createdAt: string): IdentityDoc {
  const unsigned = {
    instance_id: instanceIdFor(noisePublic),
    ed25519_pubkey: rawPublicKey(signingKey).toString('hex'),
    noise_static_pubkey: noisePublic.toString('hex'),
    capabilities: [...CAPABILITIES],
    created_at: createdAt,
  }
  return {...unsigned, signature: signDomain(signingKey, IDENTITY_DOMAIN, canonicalJson(unsigned)).toString('base64url')}
}

/** Why an identity document is not self-consistent, or null: signature by its Ed25519 key, instance_id from its Noise key. */
export function identityDocProblem(doc: IdentityDoc): string | null {
  const {signature, ...unsigned} = doc
  if (instanceIdFor(Buffer.from(doc.noise_static_pubkey, 'hex')) !== doc.instance_id) return 'instance_id does not derive from noise_static_pubkey'
  if (!verifyDomain(Buffer.from(doc.ed25519_pubkey, 'hex'), IDENTITY_DOMAIN, canonicalJson(unsigned), Buffer.from(signature, 'base64url'))) return 'identity signature does not verify'
  return null
}

/** `static_sig`: the node key's signature over the Noise static key actually used in a handshake. */
export function signStaticKey(signingKey: KeyObject, noisePublic: Buffer): Buffer {
  return signDomain(signingKey, STATIC_DOMAIN, noisePublic)
}

/** True when `sig` is the Ed25519 key's signature over this Noise static key. */
export function verifyStaticKey(ed25519Public: Buffer, noisePublic: Buffer, sig: Buffer): boolean {
  return verifyDomain(ed25519Public, STATIC_DOMAIN, noisePublic, sig)
}

/** The `key_rotation` signature: the long-lived node key vouching for a new identity document. */
export function signRotation(signingKey: KeyObject, oldInstanceId: string, doc: IdentityDoc): Buffer {
  return signDomain(signingKey, ROTATION_DOMAIN, canonicalJson({old_instance_id: oldInstanceId, identity: doc}))
}

/** True when a `key_rotation` signature verifies with the pinned Ed25519 key. */
export function verifyRotation(ed25519Public: Buffer, oldInstanceId: string, doc: IdentityDoc, sig: Buffer): boolean {
  return verifyDomain(ed25519Public, ROTATION_DOMAIN, canonicalJson({old_instance_id: oldInstanceId, identity: doc}), sig)
}

function rawX25519(privateKey: KeyObject): StaticKeyPair {
  const jwk = privateKey.export({format: 'jwk'})
  return {privateKey: Buffer.from(jwk.d ?? '', 'base64url'), publicKey: Buffer.from(jwk.x ?? '', 'base64url')}
}

interface StoredIdentity extends NodeIdentity {
  noise_rotated_at?: string
}

/**
 * Loads the node keys from `<state>/identity/`. A missing or mismatching file is an error: mesh
 * never creates an identity (that is `osmoda init`'s job), so peers' pins stay valid.
 */
export function loadMeshKeys(paths: OsmodaPaths): MeshKeys {
  const dir = paths.identityDir
  let stored: StoredIdentity
  let signingKey: KeyObject
  let noisePrivate: KeyObject
  try {
    stored = JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8')) as StoredIdentity
    signingKey = createPrivateKey(readFileSync(join(dir, 'ed25519.key')))
    noisePrivate = createPrivateKey(readFileSync(join(dir, 'noise_static.key')))
  } catch (error) {
    throw new OsmodaError('NOT_READY', `node identity in ${dir} is missing or unreadable: ${(error as Error).message}`, {hint: 'run `osmoda init` (mesh never creates keys itself)'})
  }
  if (signingKey.asymmetricKeyType !== 'ed25519' || noisePrivate.asymmetricKeyType !== 'x25519') {
    throw new OsmodaError('NOT_READY', `node keys in ${dir} have the wrong type (want ed25519.key Ed25519, noise_static.key X25519)`, {hint: 'restore the node keys from a backup'})
  }
  const noise = rawX25519(noisePrivate)
  if (instanceIdFor(noise.publicKey) !== stored.instance_id) {
    throw new OsmodaError('CONFLICT', `identity.json names instance ${stored.instance_id} but noise_static.key belongs to ${instanceIdFor(noise.publicKey)}`, {hint: `restore the matching key into ${dir}`})
  }
  const doc = signIdentityDoc(signingKey, noise.publicKey, stored.noise_rotated_at ?? stored.created_at)
  return {doc, signingKey, ed25519Public: rawPublicKey(signingKey), noise}
}

/**
 * Replaces the Noise static key (new instance_id) and records it in identity.json; the Ed25519
 * node key and the ledger origin stay. Returns the new keys.
 */
export function rotateNoiseKey(paths: OsmodaPaths, current: MeshKeys, now: Date): MeshKeys {
  const dir = paths.identityDir
  const pair = generateKeyPairSync('x25519')
  const noise = rawX25519(pair.privateKey)
  const stored = JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8')) as StoredIdentity
  const rotatedAt = now.toISOString()
  const next: StoredIdentity = {...stored, instance_id: instanceIdFor(noise.publicKey), noise_static_public_key: noise.publicKey.toString('base64'), noise_rotated_at: rotatedAt}
  // Key first, then identity.json: a crash in between fails the next start with CONFLICT naming both ids.
  writeFileAtomic(join(dir, 'noise_static.key'), pair.privateKey.export({format: 'pem', type: 'pkcs8'}) as string, 0o600)
  writeFileAtomic(join(dir, 'noise_static.pub'), pair.publicKey.export({format: 'pem', type: 'spki'}) as string, 0o644)
  writeFileAtomic(join(dir, 'identity.json'), `${JSON.stringify(next, null, 2)}\n`, 0o644)
  return {doc: signIdentityDoc(current.signingKey, noise.publicKey, rotatedAt), signingKey: current.signingKey, ed25519Public: current.ed25519Public, noise}
}
