import {createHash, timingSafeEqual} from 'node:crypto'
import {readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import type {Role} from './route.js'

const ROLES: readonly Role[] = ['operator', 'agent']
const RECHECK_MS = 60_000

/** Verifies bearer tokens against `<state>/tokens/<role>.sha256` (SPEC §1.4). */
export interface TokenAuth {
  /** The role a token belongs to, or null for an unknown token. */
  authenticate(token: string): Role | null
  /** Re-reads the hash files now (POST /reload, SIGHUP). */
  reload(): void
}

/**
 * Token verification by constant-time comparison of SHA-256 digests. The hash files are re-read on
 * reload and, at most once a minute, when their mtime changed (so `osmoda token rotate` takes
 * effect without a restart).
 */
export function createTokenAuth(tokensDir: string, now: () => number = Date.now): TokenAuth {
  let hashes = new Map<Role, {digest: Buffer; mtimeMs: number}>()
  let checkedAt = 0

  const load = () => {
    const next = new Map<Role, {digest: Buffer; mtimeMs: number}>()
    for (const role of ROLES) {
      const file = join(tokensDir, `${role}.sha256`)
      try {
        const text = readFileSync(file, 'utf8').trim()
        if (/^[0-9a-f]{64}$/.test(text)) next.set(role, {digest: Buffer.from(text, 'hex'), mtimeMs: statSync(file).mtimeMs})
      } catch {
        // A missing hash file means nobody can hold that role until `osmoda init` writes it.
      }
    }
    hashes = next
    checkedAt = now()
  }

  const changed = () =>
    ROLES.some((role) => {
      try {
        return statSync(join(tokensDir, `${role}.sha256`)).mtimeMs !== hashes.get(role)?.mtimeMs
      } catch {
        return hashes.has(role)
      }
    })

  load()
  return {
    authenticate(token) {
      if (now() - checkedAt > RECHECK_MS) {
        if (changed()) load()
        else checkedAt = now()
      }
      const digest = createHash('sha256').update(token).digest()
      let found: Role | null = null
      // Compare against every role so the timing does not reveal which one matched.
      for (const role of ROLES) {
        const expected = hashes.get(role)
        if (expected && timingSafeEqual(expected.digest, digest)) found = role
      }
      return found
    },
    reload: load,
  }
}

/** SHA-256 hex of a token, as stored in `<role>.sha256`. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}
