import type {KeyObject} from 'node:crypto'
import {isIP} from 'node:net'
import {domainToASCII} from 'node:url'
import {allowsNet, hostMatches, parsePermission, verifyCapability} from '../../lib/capability.js'
import {matchesAny, parseCidr, parseIp, type Cidr} from './cidr.js'
import type {Listener} from './events.js'
import type {Revocations} from './revocations.js'

/** The policy a CONNECT is judged by (hot: read per request). */
export interface EgressPolicy {
  defaultAllow: readonly string[]
  allowedPorts: readonly number[]
  allowPrivateCidrs: readonly Cidr[]
}

/** A CONNECT target after normalisation. */
export interface Target {
  /** Lowercase ASCII name, or the IP literal (IPv6 without brackets). */
  host: string
  port: number
  /** The literal's bytes when the host is an IP address. */
  literal: Uint8Array | null
}

/** Where a request is refused: HTTP status and the `X-Osmoda-Deny-Reason`. */
export interface Refusal {
  status: number
  reason: string
  tokenId: string | null
}

const NAME_RE = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/

/** Parses `host:port` / `[v6]:port` of a CONNECT request line (step 1); null when it is anything else. */
export function parseConnectTarget(text: string): {host: string; port: number} | null {
  const match = /^(\[[0-9A-Fa-f:.]{2,45}\]|[^\s:[\]/@?#]{1,300}):(\d{1,5})$/.exec(text)
  if (!match) return null
  const port = Number(match[2])
  if (port < 1 || port > 65_535) return null
  return {host: match[1]!, port}
}

/** Step 3: lowercase, strip one trailing dot, IDNA → punycode; null for a name that cannot be one. */
export function normaliseHost(raw: string): {host: string; literal: Uint8Array | null} | null {
  if (raw.startsWith('[')) {
    const inner = raw.slice(1, -1).toLowerCase()
    const bytes = isIP(inner) === 6 ? parseIp(inner) : null
    return bytes ? {host: inner, literal: bytes} : null
  }
  let decoded: string
  try {
    // Request lines are ASCII: a Unicode name arrives percent-encoded.
    decoded = decodeURIComponent(raw)
  } catch {
    return null
  }
  const trimmed = decoded.toLowerCase().replace(/\.$/, '')
  if (isIP(trimmed) === 4) return {host: trimmed, literal: parseIp(trimmed)}
  const ascii = domainToASCII(trimmed)
  if (!ascii || !NAME_RE.test(ascii)) return null
  // A name such as 127.1 or 0x7f.1 would reach an address that was never vetted as a literal.
  if (/^[0-9.]+$/.test(ascii) || /^0x/i.test(ascii.split('.').at(-1) ?? '')) return null
  return {host: ascii, literal: null}
}

/** What the token check decided. */
export type Authorization = {ok: true; tokenId: string | null} | ({ok: false} & Refusal)

/**
 * Steps 2–4: port, literal rule, token (`Proxy-Authorization: Bearer`, required on the Unix
 * listener, verified locally) and the host match against the token's `net:` entries or, without a
 * token on TCP, `defaultAllow`.
 */
export function authorize(
  target: Target,
  request: {authorization: string | undefined; listener: Listener},
  deps: {policy: EgressPolicy; verifyKey: KeyObject; revocations: Revocations; now: number},
): Authorization {
  const deny = (status: number, reason: string, tokenId: string | null = null): Authorization => ({ok: false, status, reason, tokenId})
  const {policy} = deps
  if (!policy.allowedPorts.includes(target.port)) return deny(403, 'port_not_allowed')

  const header = request.authorization
  let perms: string[] | null = null
  let tokenId: string | null = null
  if (header !== undefined) {
    const token = /^Bearer +(\S{1,65536})$/i.exec(header.trim())?.[1]
    if (!token) return deny(403, 'token_malformed')
    if (!deps.revocations.fresh()) return deny(403, 'revocations_stale')
    const result = verifyCapability(token, {verifyKey: deps.verifyKey, audience: 'egress', now: deps.now, isRevoked: (jti) => deps.revocations.isRevoked(jti)})
    // A claim is only worth naming once the signature held.
    const named = result.valid || result.reason !== 'bad_signature' ? (result.claims?.jti ?? null) : null
    if (!result.valid) return deny(403, `token_${result.reason}`, named)
    perms = result.claims.perms
    tokenId = result.claims.jti
  } else if (request.listener === 'unix') {
    return deny(403, 'token_required')
  }

  const matchName = target.literal && target.literal.length === 16 ? `[${target.host}]` : target.host
  const tokenNames = (name: string) => perms !== null && perms.some((p) => literalOrNameMatches(p, name, target.port))
  if (target.literal) {
    const opened = matchesAny(policy.allowPrivateCidrs, target.literal)
    if (!opened && !tokenNames(matchName)) return deny(403, 'ip_literal', tokenId)
  }
  const allowed = perms !== null ? allowsNetSafe(perms, matchName, target.port, target.literal) : defaultAllows(policy.defaultAllow, matchName, target.literal)
  if (!allowed) return deny(403, 'host_not_allowed', tokenId)
  return {ok: true, tokenId}
}

function literalOrNameMatches(perm: string, name: string, port: number): boolean {
  try {
    const p = parsePermission(perm)
    if (p.kind !== 'net' || p.port !== port || p.wildcard) return false
    return sameHost(p.host, name)
  } catch {
    return false
  }
}

/** Exact host compare where IP literals compare as addresses (`[::1]` = `[0::1]`). */
function sameHost(a: string, b: string): boolean {
  if (a === b) return true
  const strip = (s: string) => s.replace(/^\[(.*)\]$/, '$1')
  const x = parseIp(strip(a))
  const y = parseIp(strip(b))
  return x !== null && y !== null && x.length === y.length && x.every((v, i) => v === y[i])
}

function allowsNetSafe(perms: readonly string[], name: string, port: number, literal: Uint8Array | null): boolean {
  if (literal) return perms.some((p) => literalOrNameMatches(p, name, port))
  return allowsNet(perms, name, port)
}

function defaultAllows(entries: readonly string[], name: string, literal: Uint8Array | null): boolean {
  return entries.some((entry) => {
    try {
      const p = parsePermission(`net:${entry}`)
      if (p.kind !== 'net') return false
      return literal ? !p.wildcard && sameHost(p.host, name) : hostMatches(p, name)
    } catch {
      return false
    }
  })
}

/** Step 5: the resolved addresses that egress refuses (empty: all may be used). */
export function refusedAddresses(addresses: readonly string[], policy: EgressPolicy, isRefused: (bytes: Uint8Array, allowed: readonly Cidr[]) => boolean): string[] {
  return addresses.filter((address) => {
    const bytes = parseIp(address)
    return bytes === null || isRefused(bytes, policy.allowPrivateCidrs)
  })
}

/** Builds the policy from allowlist fields. */
export function policyFrom(allowlist: {default_allow: readonly string[]; allowed_ports: readonly number[]; allow_private_cidrs: readonly string[]}): EgressPolicy {
  return {defaultAllow: allowlist.default_allow, allowedPorts: allowlist.allowed_ports, allowPrivateCidrs: allowlist.allow_private_cidrs.map(parseCidr)}
}
