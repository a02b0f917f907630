import {createHmac, timingSafeEqual} from 'node:crypto'
import {z} from 'zod'
import {canonicalJson} from '../../lib/ledger/canonical-json.js'
import {IdentityDoc, identityDocProblem, signStaticKey, verifyStaticKey, type MeshKeys} from './identity.js'
import {Endpoint, InviteId, secretKey} from './invite-code.js'

const B64u = z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected base64url')

/** The JCS payload each side sends with its static key (SPEC §2.5 Handshake). */
export const HandshakePayload = z.strictObject({
  v: z.literal(1),
  identity: IdentityDoc,
  static_sig: B64u.max(100),
  invite: z.strictObject({invite_id: InviteId, proof: B64u.max(64)}).optional(),
  endpoint: Endpoint.optional(),
})
export type HandshakePayload = z.output<typeof HandshakePayload>

/** Refusal of a handshake; `reason` is what `mesh.handshake_rejected` records. */
export class HandshakeRejected extends Error {
  constructor(readonly reason: string) {
    super(reason)
    this.name = 'HandshakeRejected'
  }
}

/** `proof = HMAC-SHA256(key = SHA-256(secret), h)`. */
export function inviteProof(secretSha256: Buffer, h: Buffer): Buffer {
  return createHmac('sha256', secretSha256).update(h).digest()
}

/** True when `proof` matches the stored secret hash for this handshake hash (constant time). */
export function proofMatches(secretSha256: Buffer, h: Buffer, proof: string): boolean {
  const got = Buffer.from(proof, 'base64url')
  const want = inviteProof(secretSha256, h)
  return got.length === want.length && timingSafeEqual(got, want)
}

/** This side's payload: identity, static_sig over the static key actually used, optional invite proof and endpoint. */
export function buildPayload(keys: MeshKeys, h: Buffer, extra: {invite?: {id: string; secret: Buffer}; endpoint?: string | null}): Buffer {
  const payload: HandshakePayload = {v: 1, identity: keys.doc, static_sig: signStaticKey(keys.signingKey, keys.noise.publicKey).toString('base64url')}
  if (extra.invite) payload.invite = {invite_id: extra.invite.id, proof: inviteProof(secretKey(extra.invite.secret), h).toString('base64url')}
  if (extra.endpoint) payload.endpoint = extra.endpoint
  return Buffer.from(canonicalJson(payload))
}

/**
 * Parses the remote payload and checks what does not depend on pins: a valid identity document,
 * whose Noise key is the static key of this handshake and whose Ed25519 key signed that static
 * key. Throws HandshakeRejected.
 */
export function verifyPayload(remoteStatic: Buffer, raw: Buffer): HandshakePayload {
  let json: unknown
  try {
    json = JSON.parse(raw.toString('utf8'))
  } catch {
    throw new HandshakeRejected('payload_not_json')
  }
  const parsed = HandshakePayload.safeParse(json)
  if (!parsed.success) throw new HandshakeRejected('payload_malformed')
  const payload = parsed.data
  if (payload.identity.noise_static_pubkey !== remoteStatic.toString('hex')) throw new HandshakeRejected('static_key_mismatch')
  const problem = identityDocProblem(payload.identity)
  if (problem) throw new HandshakeRejected(problem.startsWith('instance_id') ? 'instance_id_mismatch' : 'identity_signature_invalid')
  if (!verifyStaticKey(Buffer.from(payload.identity.ed25519_pubkey, 'hex'), remoteStatic, Buffer.from(payload.static_sig, 'base64url'))) throw new HandshakeRejected('static_sig_invalid')
  return payload
}
