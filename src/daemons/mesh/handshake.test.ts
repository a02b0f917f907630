import {randomBytes} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {canonicalJson} from '../../lib/ledger/canonical-json.js'
import {buildPayload, HandshakeRejected, proofMatches, verifyPayload} from './handshake.js'
import {signIdentityDoc, signStaticKey} from './identity.js'
import {secretKey} from './invite-code.js'
import {makeTestKeys} from './test-keys.js'

const h = randomBytes(32)

function reason(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    if (error instanceof HandshakeRejected) return error.reason
    throw error
  }
  return 'accepted'
}

describe('handshake payloads', () => {
  it('verify for the static key actually used and carry a checkable invite proof', () => {
    // Given a payload with an invite proof
    const keys = makeTestKeys()
    const secret = randomBytes(32)
    const raw = buildPayload(keys, h, {invite: {id: 'inv_01JDX8Q4S1T6V0W7Y2Z3A4B5C6', secret}, endpoint: '127.0.0.1:4000'})
    // When the responder verifies it
    const payload = verifyPayload(keys.noise.publicKey, raw)
    // Then identity and proof check out for this handshake hash only
    expect(payload.identity.instance_id).toBe(keys.doc.instance_id)
    expect(proofMatches(secretKey(secret), h, payload.invite?.proof ?? '')).toBe(true)
    expect(proofMatches(secretKey(secret), randomBytes(32), payload.invite?.proof ?? '')).toBe(false)
    expect(proofMatches(secretKey(randomBytes(32)), h, payload.invite?.proof ?? '')).toBe(false)
  })

  it('refuse a node that presents another identity, a foreign static key or bad bytes', () => {
    const me = makeTestKeys()
    const victim = makeTestKeys()
    const raw = (payload: unknown) => Buffer.from(canonicalJson(payload))
    const sig = (k = me) => signStaticKey(k.signingKey, k.noise.publicKey).toString('base64url')
    // Another node's instance_id with my own static key
    const claimed = {...me.doc, instance_id: victim.doc.instance_id}
    expect(reason(() => verifyPayload(me.noise.publicKey, raw({v: 1, identity: claimed, static_sig: sig()})))).toBe('instance_id_mismatch')
    // Another node's whole identity document while the handshake used my static key
    expect(reason(() => verifyPayload(me.noise.publicKey, raw({v: 1, identity: victim.doc, static_sig: sig(victim)})))).toBe('static_key_mismatch')
    // My own key, a document re-signed by me for the victim's Noise key
    const forged = signIdentityDoc(me.signingKey, victim.noise.publicKey, me.doc.created_at)
    expect(reason(() => verifyPayload(victim.noise.publicKey, raw({v: 1, identity: forged, static_sig: signStaticKey(me.signingKey, victim.noise.publicKey).toString('base64url')})))).toBe('accepted')
    // …which is why pins compare the Ed25519 key too (see connections); a static_sig by another key fails
    expect(reason(() => verifyPayload(me.noise.publicKey, raw({v: 1, identity: me.doc, static_sig: sig(victim)})))).toBe('static_sig_invalid')
    expect(reason(() => verifyPayload(me.noise.publicKey, raw({v: 1, identity: {...me.doc, created_at: 'x'}, static_sig: sig()})))).toBe('identity_signature_invalid')
    expect(reason(() => verifyPayload(me.noise.publicKey, Buffer.from('not json')))).toBe('payload_not_json')
    expect(reason(() => verifyPayload(me.noise.publicKey, raw({v: 2, identity: me.doc, static_sig: sig()})))).toBe('payload_malformed')
    expect(reason(() => verifyPayload(me.noise.publicKey, raw({v: 1, identity: me.doc, static_sig: sig(), sender: 'x'})))).toBe('payload_malformed')
    expect(reason(() => verifyPayload(me.noise.publicKey, raw({v: 1, identity: me.doc, static_sig: sig()})))).toBe('accepted')
  })
})
