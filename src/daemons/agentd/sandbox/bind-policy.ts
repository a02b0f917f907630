import {realpathSync, statSync} from 'node:fs'

/**
 * Which capability-granted paths may be mounted into a sandbox (SPEC §2.1 path policy, applied to
 * sandbox binds). `fsRoots` is not re-checked here: a token naming a path outside them could only
 * be minted by the operator or with an approval (capability_mint is gated exactly then), and the
 * node key's signature is the proof of that. What is checked is what the signature cannot vouch
 * for: the path's shape, that it exists now, and the deny list (secrets, tokens, the ledger), both
 * at and below the path, since mounting `/etc` would expose `/etc/shadow`.
 */

/** Why a bind is refused. */
export type BindRefusal = 'not_absolute' | 'dot_dot' | 'missing' | 'denied_path'

/** A bind that may be mounted, or the reason it may not. */
export type BindCheck = {ok: true; path: string; source: string} | {ok: false; path: string; reason: BindRefusal}

const segments = (path: string) => path.split('/').filter((s) => s !== '')

function segmentMatches(pattern: string, segment: string): boolean {
  if (!pattern.includes('*')) return pattern === segment
  const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`)
  return re.test(segment)
}

/**
 * Matches path segments against glob segments (`*` within one segment, `**` across any number).
 * With `prefix`, also true when the path runs out first: something at or below it could match.
 */
function matchSegments(pattern: readonly string[], path: readonly string[], prefix: boolean): boolean {
  if (path.length === 0) return prefix || pattern.every((s) => s === '**')
  if (pattern.length === 0) return false
  const [head, ...rest] = pattern as [string, ...string[]]
  if (head === '**') return matchSegments(rest, path, prefix) || matchSegments(pattern, path.slice(1), prefix)
  return segmentMatches(head, path[0] as string) && matchSegments(rest, path.slice(1), prefix)
}

/** True when `path` or one of its ancestors matches the deny glob. */
export function deniedAtOrAbove(pattern: string, path: string): boolean {
  const pat = segments(pattern)
  const p = segments(path)
  for (let n = p.length; n >= 0; n--) if (matchSegments(pat, p.slice(0, n), false)) return true
  return false
}

/** True when `path` itself or something below it could match the deny glob. */
export function deniedAtOrBelow(pattern: string, path: string): boolean {
  return matchSegments(segments(pattern), segments(path), true)
}

/**
 * Checks one granted path: absolute, no `..`, existing; neither the literal nor the real path may
 * lie at, below or above a deny pattern. Returns the real path to mount.
 */
export function checkBind(path: string, denyPatterns: readonly string[]): BindCheck {
  if (!path.startsWith('/') || path.includes('\0')) return {ok: false, path, reason: 'not_absolute'}
  if (path.split('/').includes('..')) return {ok: false, path, reason: 'dot_dot'}
  let source: string
  try {
    source = realpathSync(path)
    statSync(source)
  } catch {
    return {ok: false, path, reason: 'missing'}
  }
  for (const candidate of new Set([path, source])) {
    if (denyPatterns.some((pattern) => deniedAtOrAbove(pattern, candidate) || deniedAtOrBelow(pattern, candidate))) {
      return {ok: false, path, reason: 'denied_path'}
    }
  }
  return {ok: true, path, source}
}
