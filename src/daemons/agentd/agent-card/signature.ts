import {createHash, createPublicKey, sign, verify, type KeyObject} from 'node:crypto'
import {canonicalJson} from '../../../lib/ledger/canonical-json.js'

/*
 * Agent card signatures as A2A v1.0 §8.4 (docs/specification.md, "Agent Card Signing") defines
 * them: the payload is the card without `signatures`, with default values removed per proto field
 * presence (§8.4.1), canonicalised with RFC 8785 (JCS); each signature is a JWS (RFC 7515) with a
 * detached payload, kept as `{protected, signature}` where the signing input is
 * BASE64URL(protected header) "." BASE64URL(payload). The algorithm is EdDSA over Ed25519
 * (RFC 8037) with the node key; `kid` is the key's RFC 7638 JWK thumbprint.
 *
 * Nothing here depends on agentd: mesh and the gateway verify cards with `verifyAgentCard`.
 */

/** One message type of a2a.proto, as far as default removal needs it. */
interface Message {
  /** Fields marked REQUIRED: kept even when they hold a default value. */
  required?: readonly string[]
  /** Fields with the `optional` keyword: kept whenever present. */
  optional?: readonly string[]
  /** Singular message fields (present = set, so kept when present). */
  messages?: Readonly<Record<string, Message>>
  /** Repeated message fields. */
  lists?: Readonly<Record<string, Message>>
  /** map<string, Message> fields. */
  maps?: Readonly<Record<string, Message>>
}

const STRING_LIST: Message = {}
const SECURITY_REQUIREMENT: Message = {maps: {schemes: STRING_LIST}}
const SECURITY_SCHEME: Message = {
  messages: {
    apiKeySecurityScheme: {required: ['location', 'name']},
    httpAuthSecurityScheme: {required: ['scheme']},
    oauth2SecurityScheme: {required: ['flows']},
    openIdConnectSecurityScheme: {required: ['openIdConnectUrl']},
    mtlsSecurityScheme: {},
  },
}
const AGENT_CARD: Message = {
  required: ['name', 'description', 'supportedInterfaces', 'version', 'capabilities', 'defaultInputModes', 'defaultOutputModes', 'skills'],
  optional: ['documentationUrl', 'iconUrl'],
  messages: {
    provider: {required: ['url', 'organization']},
    capabilities: {optional: ['streaming', 'pushNotifications', 'extendedAgentCard'], lists: {extensions: {}}},
  },
  lists: {
    supportedInterfaces: {required: ['url', 'protocolBinding', 'protocolVersion']},
    skills: {required: ['id', 'name', 'description', 'tags'], lists: {securityRequirements: SECURITY_REQUIREMENT}},
    securityRequirements: SECURITY_REQUIREMENT,
  },
  maps: {securitySchemes: SECURITY_SCHEME},
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

// proto3 defaults: the zero value of each scalar kind, and an empty list or map.
function isDefault(value: unknown): boolean {
  if (value === false || value === 0 || value === '') return true
  if (Array.isArray(value)) return value.length === 0
  return false
}

function prune(value: Record<string, unknown>, message: Message): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, field] of Object.entries(value)) {
    if (field === null || field === undefined) continue
    const required = message.required?.includes(key) ?? false
    const child = message.messages?.[key]
    const list = message.lists?.[key]
    const map = message.maps?.[key]
    if (child && isPlainObject(field)) {
      out[key] = prune(field, child)
    } else if (list && Array.isArray(field)) {
      if (field.length === 0 && !required) continue
      out[key] = field.map((item) => (isPlainObject(item) ? prune(item, list) : item))
    } else if (map && isPlainObject(field)) {
      const entries = Object.entries(field)
      if (entries.length === 0 && !required) continue
      out[key] = Object.fromEntries(entries.map(([k, v]) => [k, isPlainObject(v) ? prune(v, map) : v]))
    } else if (required || message.optional?.includes(key) || !isDefault(field)) {
      // Struct-typed fields (extension params, metadata) are kept verbatim: a present Struct is set.
      out[key] = field
    }
  }
  return out
}

/** The bytes an agent card signature covers: JCS of the card without `signatures` and without default values. */
export function agentCardSigningPayload(card: Record<string, unknown>): string {
  const {signatures: _signatures, ...unsigned} = card
  return canonicalJson(prune(unsigned, AGENT_CARD))
}

/** The card with default values removed (what a signer should publish, so naive verifiers agree). */
export function withoutDefaults<T extends Record<string, unknown>>(card: T): T {
  return prune(card, AGENT_CARD) as T
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url')
const B64URL = /^[A-Za-z0-9_-]+$/

function ed25519Key(publicKey: KeyObject | Uint8Array): KeyObject {
  if (!(publicKey instanceof Uint8Array)) return publicKey.type === 'public' ? publicKey : createPublicKey(publicKey)
  if (publicKey.length !== 32) throw new Error('an Ed25519 public key has 32 bytes')
  return createPublicKey({key: {kty: 'OKP', crv: 'Ed25519', x: b64url(Buffer.from(publicKey))}, format: 'jwk'})
}

/** RFC 7638 thumbprint of an Ed25519 public key: base64url SHA-256 of its canonical JWK. */
export function ed25519KeyId(publicKey: KeyObject | Uint8Array): string {
  const jwk = ed25519Key(publicKey).export({format: 'jwk'}) as {crv?: string; kty?: string; x?: string}
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.x) throw new Error('not an Ed25519 key')
  // Member order is lexicographic, as RFC 7638 §3 requires for the required members.
  return b64url(createHash('sha256').update(`{"crv":"Ed25519","kty":"OKP","x":"${jwk.x}"}`).digest())
}

/** Returns the card with one EdDSA JWS signature by `privateKey` (any earlier signatures are replaced). */
export function signAgentCard<T extends Record<string, unknown>>(card: T, privateKey: KeyObject): T & {signatures: {protected: string; signature: string}[]} {
  const kid = ed25519KeyId(createPublicKey(privateKey))
  const header = b64url(canonicalJson({alg: 'EdDSA', kid, typ: 'JOSE'}))
  const input = `${header}.${b64url(agentCardSigningPayload(card))}`
  const signature = b64url(sign(null, Buffer.from(input, 'ascii'), privateKey))
  const {signatures: _old, ...unsigned} = card
  return {...(unsigned as T), signatures: [{protected: header, signature}]}
}

/**
 * True when at least one of the card's signatures is a valid EdDSA JWS by `publicKey` (a KeyObject
 * or the raw 32 bytes) over the card as it is now. Signatures with another algorithm, without the
 * key's `kid`, or with a `crit` header this code cannot honour (RFC 7515 §4.1.11) are not accepted. Never throws.
 */
export function verifyAgentCard(card: unknown, publicKey: KeyObject | Uint8Array): boolean {
  try {
    if (!isPlainObject(card) || !Array.isArray(card.signatures)) return false
    const key = ed25519Key(publicKey)
    if (key.asymmetricKeyType !== 'ed25519') return false
    const kid = ed25519KeyId(key)
    const payload = b64url(agentCardSigningPayload(card))
    return card.signatures.some((entry) => verifyOne(entry, payload, key, kid))
  } catch {
    return false
  }
}

function verifyOne(entry: unknown, payload: string, key: KeyObject, kid: string): boolean {
  try {
    if (!isPlainObject(entry) || typeof entry.protected !== 'string' || typeof entry.signature !== 'string') return false
    if (!B64URL.test(entry.protected) || !B64URL.test(entry.signature)) return false
    const header: unknown = JSON.parse(Buffer.from(entry.protected, 'base64url').toString('utf8'))
    if (!isPlainObject(header) || header.alg !== 'EdDSA' || 'crit' in header || 'b64' in header) return false
    if (header.kid !== kid) return false
    return verify(null, Buffer.from(`${entry.protected}.${payload}`, 'ascii'), key, Buffer.from(entry.signature, 'base64url'))
  } catch {
    // A malformed entry is simply not a valid signature; another entry may still be.
    return false
  }
}
