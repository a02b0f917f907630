import {sign, verify, type KeyObject} from 'node:crypto'
import {canonicalJson} from './ledger/canonical-json.js'
import {prefixedIdRe} from './ids.js'

/**
 * Capability tokens (SPEC §2.1): what a sandbox or an egress client may reach, signed by the node
 * key so that egress can check a token without asking agentd (only the revocation list is fetched).
 *
 *   osmcap1.<base64url(JCS claims)>.<base64url(Ed25519(node key, "osmoda.capability.v1" 0x00 ‖ JCS claims))>
 *
 * Claims `{jti, sub, iat, exp, perms[], aud}`; `iat`/`exp` are whole seconds since the epoch. The
 * domain-separation prefix keeps a token signature from ever being valid as any other signature
 * the node key makes (checkpoints, agent cards).
 */

export const CAPABILITY_PREFIX = 'osmcap1'
const SIGNING_CONTEXT = Buffer.from('osmoda.capability.v1\0', 'utf8')
/** Longest token accepted (64 permissions of ≤ 4 KiB each fit well under it). */
export const MAX_TOKEN_LENGTH = 65_536
export const MAX_PERMISSIONS = 64
export const AUDIENCES = ['egress', 'sandbox'] as const
export type Audience = (typeof AUDIENCES)[number]
export const CAPABILITY_ID_RE = prefixedIdRe('cap')

export interface CapabilityClaims {
  jti: string
  sub: string
  iat: number
  exp: number
  perms: string[]
  aud: Audience[]
}

/** One parsed permission. */
export type Permission =
  | {kind: 'net'; host: string; port: number; wildcard: boolean}
  | {kind: 'fs'; access: 'read' | 'write'; path: string}

const HOST_LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?'
const HOST_RE = new RegExp(`^(?:\\*\\.)?${HOST_LABEL}(?:\\.${HOST_LABEL})*$`)
const IPV4_RE = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/
const IPV6_BRACKETED_RE = /^\[[0-9a-f:.]{2,45}\]$/

/**
 * Parses `net:<host>[:<port>]` (exact host, `*.suffix`, an IPv4 literal or a bracketed IPv6
 * literal; port default 443), `fs:read:<abs path>` or `fs:write:<abs path>`. Throws with a message
 * naming what is wrong.
 */
export function parsePermission(text: string): Permission {
  if (text.startsWith('net:')) {
    const rest = text.slice(4)
    const match = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/.exec(rest)
    if (!match) throw new Error(`${JSON.stringify(text)}: expected net:<host>[:<port>]`)
    const host = match[1]!.toLowerCase()
    const port = match[2] === undefined ? 443 : Number(match[2])
    if (!(HOST_RE.test(host) || IPV4_RE.test(host) || IPV6_BRACKETED_RE.test(host)) || host.length > 253) {
      throw new Error(`${JSON.stringify(text)}: host must be a DNS name, *.suffix, or an IP literal`)
    }
    if (port < 1 || port > 65_535) throw new Error(`${JSON.stringify(text)}: port must be 1..65535`)
    return {kind: 'net', host: host.replace(/^\*\./, ''), port, wildcard: host.startsWith('*.')}
  }
  const fs = /^fs:(read|write):(.*)$/s.exec(text)
  if (fs) {
    const path = fs[2]!
    if (!path.startsWith('/') || path.includes('\0') || path.split('/').includes('..') || Buffer.byteLength(path) > 4096) {
      throw new Error(`${JSON.stringify(text)}: path must be absolute, without "..", NUL, at most 4096 bytes`)
    }
    return {kind: 'fs', access: fs[1] as 'read' | 'write', path: path.length > 1 ? path.replace(/\/+$/, '') : path}
  }
  throw new Error(`${JSON.stringify(text)}: expected net:<host>[:<port>], fs:read:<path> or fs:write:<path>`)
}

/** Whether `host` matches a `net:` entry: exact, or any subdomain of a `*.suffix` entry. */
export function hostMatches(permission: {host: string; wildcard: boolean}, host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '')
  return permission.wildcard ? name.endsWith(`.${permission.host}`) : name === permission.host
}

/** Whether a token's permissions let it reach host:port. */
export function allowsNet(perms: readonly string[], host: string, port: number): boolean {
  return perms.some((text) => {
    const p = parsePermission(text)
    return p.kind === 'net' && p.port === port && hostMatches(p, host)
  })
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url')

function signingInput(claimsJson: string): Buffer {
  return Buffer.concat([SIGNING_CONTEXT, Buffer.from(claimsJson, 'utf8')])
}

/** Signs claims into a token. Permissions are validated (and the list bounded) before signing. */
export function signCapability(claims: CapabilityClaims, signingKey: KeyObject): string {
  if (claims.perms.length === 0 || claims.perms.length > MAX_PERMISSIONS) throw new Error(`a capability needs 1..${MAX_PERMISSIONS} permissions`)
  for (const perm of claims.perms) parsePermission(perm)
  const json = canonicalJson(claims)
  const signature = sign(null, signingInput(json), signingKey)
  return `${CAPABILITY_PREFIX}.${b64url(json)}.${b64url(signature)}`
}

export type VerifyFailure = 'malformed' | 'bad_signature' | 'expired' | 'not_yet_valid' | 'wrong_audience' | 'revoked'

export type VerifyResult = {valid: true; claims: CapabilityClaims} | {valid: false; reason: VerifyFailure; claims: CapabilityClaims | null}

export interface VerifyOptions {
  verifyKey: KeyObject
  audience: Audience
  /** Milliseconds since the epoch. */
  now: number
  /** Whether a token id has been revoked. */
  isRevoked: (jti: string) => boolean
}

const B64URL_RE = /^[A-Za-z0-9_-]+$/

function parseClaims(json: string): CapabilityClaims | null {
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {
    return null
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null
  const c = value as Record<string, unknown>
  const keys = Object.keys(c).sort().join(',')
  if (keys !== 'aud,exp,iat,jti,perms,sub') return null
  const ok =
    typeof c.jti === 'string' &&
    CAPABILITY_ID_RE.test(c.jti) &&
    typeof c.sub === 'string' &&
    c.sub.length >= 1 &&
    c.sub.length <= 128 &&
    Number.isSafeInteger(c.iat) &&
    Number.isSafeInteger(c.exp) &&
    Array.isArray(c.perms) &&
    c.perms.length >= 1 &&
    c.perms.length <= MAX_PERMISSIONS &&
    c.perms.every((p) => typeof p === 'string') &&
    Array.isArray(c.aud) &&
    c.aud.length >= 1 &&
    c.aud.every((a) => (AUDIENCES as readonly unknown[]).includes(a))
  if (!ok) return null
  try {
    for (const p of c.perms as string[]) parsePermission(p)
  } catch {
    return null
  }
  return c as unknown as CapabilityClaims
}

/**
 * Verifies a token: shape, canonical claims, signature, audience, lifetime, revocation — in that
 * order, so a forged token never reaches the revocation lookup and a reason never leaks anything
 * about tokens the caller could not have made.
 */
export function verifyCapability(token: string, options: VerifyOptions): VerifyResult {
  const malformed = {valid: false, reason: 'malformed', claims: null} as const
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return malformed
  const parts = token.split('.')
  if (parts.length !== 3 || parts[0] !== CAPABILITY_PREFIX || !B64URL_RE.test(parts[1]!) || !B64URL_RE.test(parts[2]!)) return malformed
  const json = Buffer.from(parts[1]!, 'base64url').toString('utf8')
  const signature = Buffer.from(parts[2]!, 'base64url')
  // Re-encoding must give back the same text: no padding games, no alternative encodings.
  if (b64url(json) !== parts[1] || b64url(signature) !== parts[2] || signature.length !== 64) return malformed
  const claims = parseClaims(json)
  if (!claims || canonicalJson(claims) !== json) return malformed
  if (!verify(null, signingInput(json), options.verifyKey, signature)) return {valid: false, reason: 'bad_signature', claims: null}
  if (!claims.aud.includes(options.audience)) return {valid: false, reason: 'wrong_audience', claims}
  const nowSecs = Math.floor(options.now / 1000)
  if (nowSecs >= claims.exp) return {valid: false, reason: 'expired', claims}
  if (nowSecs + 60 < claims.iat) return {valid: false, reason: 'not_yet_valid', claims}
  if (options.isRevoked(claims.jti)) return {valid: false, reason: 'revoked', claims}
  return {valid: true, claims}
}
