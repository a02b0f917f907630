import {generateKeyPairSync} from 'node:crypto'
import {rawPublicKey} from '../../lib/identity.js'
import {signIdentityDoc, type MeshKeys} from './identity.js'

/** Fresh node keys for unit tests (what `osmoda init` would create). */
export function makeTestKeys(createdAt = '2026-11-26T00:00:00.000Z'): MeshKeys {
  const ed = generateKeyPairSync('ed25519')
  const x = generateKeyPairSync('x25519')
  const jwk = x.privateKey.export({format: 'jwk'})
  const noise = {privateKey: Buffer.from(jwk.d ?? '', 'base64url'), publicKey: Buffer.from(jwk.x ?? '', 'base64url')}
  return {doc: signIdentityDoc(ed.privateKey, noise.publicKey, createdAt), signingKey: ed.privateKey, ed25519Public: rawPublicKey(ed.privateKey), noise}
}
