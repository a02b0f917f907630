import {createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {OsmodaError} from './errors.js'
import type {OsmodaPaths} from './paths.js'
import {createFileExclusive} from './secure-file.js'

/** The public facts of this node, `<state>/identity/identity.json`. */
export interface NodeIdentity {
  instance_id: string
  ledger_origin: string
  ed25519_public_key: string
  noise_static_public_key: string
  created_at: string
}

/** Node keys loaded for signing. */
export interface NodeKeys {
  identity: NodeIdentity
  signingKey: KeyObject
  verifyKey: KeyObject
}

/** Raw 32-byte public key of an Ed25519 or X25519 key object. */
export function rawPublicKey(key: KeyObject): Buffer {
  const der = createPublicKey(key).export({format: 'der', type: 'spki'})
  return der.subarray(der.length - 32)
}

/** `instance_id`: first 16 bytes of SHA-256 of the X25519 Noise static public key, as hex (SPEC §1.9). */
export function instanceIdFor(noisePublicRaw: Buffer): string {
  return createHash('sha256').update(noisePublicRaw).digest().subarray(0, 16).toString('hex')
}

/**
 * Creates the node's Ed25519 and X25519 keys and identity.json if they are missing. Never
 * overwrites a key: an existing private key is kept and its public half re-derived.
 */
export function ensureIdentity(paths: OsmodaPaths, now = new Date()): {created: string[]; identity: NodeIdentity} {
  const dir = paths.identityDir
  const created: string[] = []
  const ed = ensureKeyPair(join(dir, 'ed25519'), 'ed25519', created)
  const noise = ensureKeyPair(join(dir, 'noise_static'), 'x25519', created)
  const instanceId = instanceIdFor(rawPublicKey(noise))
  const identity: NodeIdentity = {
    instance_id: instanceId,
    ledger_origin: `osmoda/${instanceId}/ledger`,
    ed25519_public_key: rawPublicKey(ed).toString('base64'),
    noise_static_public_key: rawPublicKey(noise).toString('base64'),
    created_at: now.toISOString(),
  }
  if (createFileExclusive(join(dir, 'identity.json'), `${JSON.stringify(identity, null, 2)}\n`, 0o644)) created.push('identity/identity.json')
  const stored = JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8')) as NodeIdentity
  if (stored.instance_id !== identity.instance_id) {
    throw new OsmodaError('CONFLICT', `identity.json names instance ${stored.instance_id} but the Noise key belongs to ${identity.instance_id}`, {hint: `restore the matching key into ${dir}`})
  }
  return {created, identity: stored}
}

function ensureKeyPair(base: string, type: 'ed25519' | 'x25519', created: string[]): KeyObject {
  const keyFile = `${base}.key`
  if (!existsSync(keyFile)) {
    const pair = type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('x25519')
    if (createFileExclusive(keyFile, pair.privateKey.export({format: 'pem', type: 'pkcs8'}) as string, 0o600)) created.push(`identity/${type === 'ed25519' ? 'ed25519' : 'noise_static'}.key`)
  }
  const privateKey = createPrivateKey(readFileSync(keyFile))
  const pub = createPublicKey(privateKey).export({format: 'pem', type: 'spki'}) as string
  if (createFileExclusive(`${base}.pub`, pub, 0o644)) created.push(`identity/${type === 'ed25519' ? 'ed25519' : 'noise_static'}.pub`)
  return privateKey
}

/** Reads identity.json and the Ed25519 node key; a missing file is a clear error, never a new identity. */
export function loadNodeKeys(paths: OsmodaPaths): NodeKeys {
  const dir = paths.identityDir
  try {
    const identity = JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8')) as NodeIdentity
    const signingKey = createPrivateKey(readFileSync(join(dir, 'ed25519.key')))
    return {identity, signingKey, verifyKey: createPublicKey(signingKey)}
  } catch (error) {
    throw new OsmodaError('NOT_READY', `node identity in ${dir} is missing or unreadable: ${(error as Error).message}`, {hint: 'run `osmoda init`'})
  }
}

/** Reads the node's public identity and verification key (what verify-ledger needs). */
export function loadNodePublicKey(paths: OsmodaPaths): {identity: NodeIdentity; verifyKey: KeyObject} {
  const dir = paths.identityDir
  const identity = JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8')) as NodeIdentity
  return {identity, verifyKey: createPublicKey(readFileSync(join(dir, 'ed25519.pub')))}
}
