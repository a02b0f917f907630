import type {KeyObject} from 'node:crypto'
import type {z} from 'zod'
import {hostMatches, parsePermission, signCapability, verifyCapability} from '../../../lib/capability.js'
import {NotFoundError, UsageError} from '../../../lib/errors.js'
import {createUlidGenerator} from '../../../lib/ids.js'
import type {Ledger} from '../../../lib/ledger/ledger.js'
import type {RequestContext} from '../../../lib/rpc/server.js'
import type {Allowlist} from '../../egress/api.js'
import type {Gate} from '../approvals/types.js'
import type {CapabilityMintInput, CapabilityMinted, CapabilityVerifyInput, CapabilityVerifyOutput} from './api.js'
import type {CapabilityStore} from './store.js'

/** What minting needs to know from config and egress, read at each call (both change on reload). */
export interface CapabilityPolicy {
  defaultTtlSecs: number
  maxTtlSecs: number
  /** `sandbox.fsRoots`, already expanded. */
  fsRoots: readonly string[]
  /** egress's current allowlist (readAllowlist). */
  allowlist(): Pick<Allowlist, 'default_allow' | 'allowed_ports'>
}

/** Dependencies of the capability service. */
export interface CapabilityDeps {
  store: CapabilityStore
  ledger: Ledger
  gate: Gate
  signingKey: KeyObject
  verifyKey: KeyObject
  policy: () => CapabilityPolicy
  now?: () => number
}

/**
 * The permissions of a mint request that lie outside what the agent may grant on its own
 * (SPEC §1.6 `capability_mint` policy): `net:` hosts or ports outside egress's allowlist, `fs:`
 * paths outside `sandbox.fsRoots`. Empty means no approval is needed.
 */
export function permissionsOutsidePolicy(perms: readonly string[], allowlist: Pick<Allowlist, 'default_allow' | 'allowed_ports'>, fsRoots: readonly string[]): string[] {
  const allowed = allowlist.default_allow.map((entry) => parsePermission(`net:${entry}`)).filter((p) => p.kind === 'net')
  return perms.filter((text) => {
    const p = parsePermission(text)
    if (p.kind === 'fs') return !fsRoots.some((root) => root === '/' || p.path === root || p.path.startsWith(`${root.replace(/\/+$/, '')}/`))
    if (!allowlist.allowed_ports.includes(p.port)) return true
    const covered = allowed.some((entry) =>
      p.wildcard ? entry.wildcard && (p.host === entry.host || p.host.endsWith(`.${entry.host}`)) : hostMatches(entry, p.host),
    )
    return !covered
  })
}

/** Mint, verify, revoke and list capability tokens (SPEC §2.1). */
export function createCapabilityService(deps: CapabilityDeps) {
  const now = deps.now ?? Date.now
  const ulid = createUlidGenerator({clock: now})
  const iso = (ms: number) => new Date(ms).toISOString()

  return {
    mint(input: z.output<typeof CapabilityMintInput>, ctx: Pick<RequestContext, 'role' | 'actor'>): z.input<typeof CapabilityMinted> {
      const policy = deps.policy()
      const ttl = input.ttl_secs ?? policy.defaultTtlSecs
      if (ttl > policy.maxTtlSecs) {
        throw new UsageError(`ttl_secs ${ttl} is above this node's maximum of ${policy.maxTtlSecs}`, {details: [`ttl_secs: at most ${policy.maxTtlSecs}`]})
      }
      const outside = permissionsOutsidePolicy(input.permissions, policy.allowlist(), policy.fsRoots)
      const {approval_id: approvalId, ...rest} = input
      const body = {...rest, ttl_secs: ttl}
      const shown = input.permissions.join(' ')
      deps.gate.check({
        operation: 'capability_mint',
        method: 'POST',
        path: '/capability/mint',
        body,
        ctx,
        summary: `mint a ${ttl} s capability for ${input.granted_to}: ${shown.length > 380 ? `${shown.slice(0, 377)}...` : shown}`,
        hint: outside.length ? 'required' : 'not_required',
        approvalId: approvalId ?? null,
      })
      const iat = Math.floor(now() / 1000)
      const exp = iat + ttl
      const jti = `cap_${ulid()}`
      const token = signCapability({jti, sub: input.granted_to, iat, exp, perms: input.permissions, aud: ['egress', 'sandbox']}, deps.signingKey)
      const row = {jti, granted_to: input.granted_to, permissions: JSON.stringify(input.permissions), issued_at: iso(iat * 1000), expires_at: iso(exp * 1000), expires_ms: exp * 1000, minted_by: ctx.actor, revoked_at: null}
      deps.store.insert(row)
      deps.ledger.append({type: 'capability.minted', actor: ctx.actor, payload: {token_id: jti, granted_to: input.granted_to, permissions: input.permissions, expires_at: row.expires_at}})
      return {id: jti, token, granted_to: input.granted_to, permissions: input.permissions, issued_at: row.issued_at, expires_at: row.expires_at}
    },

    verify(input: z.output<typeof CapabilityVerifyInput>): z.input<typeof CapabilityVerifyOutput> {
      const result = verifyCapability(input.token, {verifyKey: deps.verifyKey, audience: input.audience, now: now(), isRevoked: (jti) => deps.store.isRevoked(jti)})
      const claims = result.claims
      return {
        valid: result.valid,
        reason: result.valid ? null : result.reason,
        token_id: claims?.jti ?? null,
        granted_to: claims?.sub ?? null,
        permissions: claims?.perms ?? null,
        expires_at: claims ? iso(claims.exp * 1000) : null,
      }
    },

    revoke(tokenId: string, actor: string): {revoked: true} {
      if (!deps.store.get(tokenId)) throw new NotFoundError(`no capability ${tokenId}`, {hint: 'osmoda receipt list --type capability.minted shows the tokens minted here'})
      // Revoking twice is not an error, but only the first revocation is an event.
      if (deps.store.revoke(tokenId, iso(now()))) deps.ledger.append({type: 'capability.revoked', actor, payload: {token_id: tokenId}})
      return {revoked: true}
    },

    revoked(): {revoked: {token_id: string; expires_at: string}[]} {
      return {revoked: deps.store.revokedUnexpired(now()).map((r) => ({token_id: r.jti, expires_at: r.expires_at}))}
    },

    /** Hourly cleanup: rows of tokens that expired a day ago serve no check any more. */
    prune(): number {
      return deps.store.deleteExpired(now() - 86_400_000)
    },
  }
}

/** The capability service. */
export type CapabilityService = ReturnType<typeof createCapabilityService>
