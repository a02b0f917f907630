import {createHash} from 'node:crypto'
import {z} from 'zod'
import {OsmodaError} from '../../lib/errors.js'
import {canonicalJson} from '../../lib/ledger/canonical-json.js'
import {IdentityDoc, identityDocProblem, signDomain, verifyDomain, type MeshKeys} from './identity.js'

const PREFIX = 'osmoda-invite1.'
const INVITE_DOMAIN = 'osmoda.mesh.invite.v1'

/** `host:port` as it travels in invites and handshake payloads. */
export const Endpoint = z.string().max(260).regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253}):[0-9]{1,5}$/, 'expected host:port')
/** An invite id, `inv_<ULID>`. */
export const InviteId = z.string().regex(/^inv_[0-7][0-9A-HJKMNP-TV-Z]{25}$/, 'expected inv_ followed by a 26-character ULID')

/** The signed body of an invite code (SPEC §2.5). */
export const InviteBody = z.strictObject({
  v: z.literal(1),
  inviter: IdentityDoc,
  endpoint: Endpoint,
  invite_id: InviteId,
  secret: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'expected 32 bytes as base64url'),
  expires_at: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
})
export type InviteBody = z.output<typeof InviteBody>

/** A decoded, verified invite and the SHA-256 of its code (what the acceptor keeps to refuse reuse). */
export interface DecodedInvite {
  body: InviteBody
  secret: Buffer
  codeSha256: string
}

/** Encodes and signs an invite with the inviter's node key. */
export function encodeInvite(keys: MeshKeys, fields: {endpoint: string; invite_id: string; secret: Buffer; expires_at: string}): string {
  const body: InviteBody = {v: 1, inviter: keys.doc, endpoint: fields.endpoint, invite_id: fields.invite_id, secret: fields.secret.toString('base64url'), expires_at: fields.expires_at}
  const jcs = canonicalJson(body)
  return `${PREFIX}${Buffer.from(jcs).toString('base64url')}.${signDomain(keys.signingKey, INVITE_DOMAIN, jcs).toString('base64url')}`
}

function invalid(message: string): OsmodaError {
  return new OsmodaError('INVITE_INVALID', `invite code ${message}`, {hint: 'ask the inviter for a fresh code (`osmoda mesh invite create` on their node)'})
}

/**
 * Decodes and verifies an invite code: format, inviter signature, identity document, instance_id
 * derivation, then expiry. Throws INVITE_INVALID or INVITE_EXPIRED.
 */
export function decodeInvite(code: string, now: Date): DecodedInvite {
  const text = code.trim()
  if (!text.startsWith(PREFIX)) throw invalid(`does not start with ${PREFIX}`)
  const parts = text.slice(PREFIX.length).split('.')
  if (parts.length !== 2 || !/^[A-Za-z0-9_-]+$/.test(parts[0] ?? '') || !/^[A-Za-z0-9_-]+$/.test(parts[1] ?? '')) throw invalid('is not <prefix><base64url body>.<base64url signature>')
  const jcs = Buffer.from(parts[0] as string, 'base64url').toString('utf8')
  let raw: unknown
  try {
    raw = JSON.parse(jcs)
  } catch {
    throw invalid('body is not JSON')
  }
  const parsed = InviteBody.safeParse(raw)
  if (!parsed.success) throw invalid(`body is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
  const body = parsed.data
  if (canonicalJson(body) !== jcs) throw invalid('body is not canonical JSON')
  const problem = identityDocProblem(body.inviter)
  if (problem) throw invalid(`inviter identity is not valid: ${problem}`)
  if (!verifyDomain(Buffer.from(body.inviter.ed25519_pubkey, 'hex'), INVITE_DOMAIN, jcs, Buffer.from(parts[1] as string, 'base64url'))) throw invalid('signature does not verify with the inviter key')
  if (Date.parse(body.expires_at) <= now.getTime()) {
    throw new OsmodaError('INVITE_EXPIRED', `invite ${body.invite_id} expired at ${body.expires_at}`, {hint: 'ask the inviter for a fresh code'})
  }
  return {body, secret: Buffer.from(body.secret, 'base64url'), codeSha256: createHash('sha256').update(text).digest('hex')}
}

/** SHA-256 of the invite secret: the HMAC key of the proof, and all the inviter keeps. */
export function secretKey(secret: Buffer): Buffer {
  return createHash('sha256').update(secret).digest()
}
