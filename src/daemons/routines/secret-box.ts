import {createCipheriv, createDecipheriv, hkdfSync, randomBytes, type KeyObject} from 'node:crypto'
import {OsmodaError} from '../../lib/errors.js'

/** Seals routines' secrets (webhook trigger secrets, webhook header values) at rest. */
export interface SecretBox {
  seal(plain: string, context: string): string
  open(sealed: string, context: string): string
}

const VERSION = 'v1'

/**
 * The routines secret key, derived from the node's Ed25519 key (SPEC §2.4: "stored encrypted
 * with the node key"), so a copy of routines.db alone does not reveal them.
 */
export function routinesSecretKey(nodeSigningKey: KeyObject): Buffer {
  const d = nodeSigningKey.export({format: 'jwk'}).d
  if (!d) throw new OsmodaError('KEYSTORE_LOCKED', 'the node key cannot be read to protect routine secrets', {hint: 'run `osmoda init`'})
  return Buffer.from(hkdfSync('sha256', Buffer.from(d, 'base64url'), 'osmoda.routines', 'routines secrets v1', 32))
}

/**
 * AES-256-GCM with a random 96-bit nonce per secret; `context` (routine id and kind) is bound as
 * associated data, so a sealed value cannot be moved to another routine.
 */
export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new RangeError('secret box key must be 32 bytes')
  return {
    seal(plain, context) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      cipher.setAAD(Buffer.from(context))
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
      return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':')
    },
    open(sealed, context) {
      const [version, iv, tag, body] = sealed.split(':')
      try {
        if (version !== VERSION || !iv || !tag || body === undefined) throw new Error('unknown format')
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'))
        decipher.setAAD(Buffer.from(context))
        decipher.setAuthTag(Buffer.from(tag, 'base64'))
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8')
      } catch {
        throw new OsmodaError('KEYSTORE_LOCKED', `a routine secret (${context}) cannot be decrypted with this node's key`, {hint: 'routines.db comes from another node or the node key changed; re-create the routine to set a new secret'})
      }
    },
  }
}
