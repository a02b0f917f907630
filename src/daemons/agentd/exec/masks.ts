import {readdirSync, realpathSync, statSync} from 'node:fs'
import {join} from 'node:path'

/** How deep a `**` may descend, and how many matches one pattern may yield (a bound on work, not on safety). */
const MAX_GLOBSTAR_DEPTH = 12
const MAX_MATCHES = 4096

/** A path to hide inside the sandbox and how: a tmpfs over a directory, /dev/null over anything else. */
export interface Mask {
  path: string
  kind: 'dir' | 'file'
}

const hasGlob = (segment: string) => /[*?[]/.test(segment)

/** An fnmatch-style matcher for one path segment (`*`, `?`, `[…]`); dot files match too, so `*` hides hidden users' homes. */
function segmentMatcher(pattern: string): RegExp {
  let source = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string
    if (c === '*') source += '.*'
    else if (c === '?') source += '.'
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2)
      if (end < 0) {
        source += '\\['
        continue
      }
      const body = pattern.slice(i + 1, end)
      source += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`.replace(/\\/g, '\\\\')
      i = end
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&')
  }
  return new RegExp(`^${source}$`, 's')
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

function isRealDir(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/** Every existing path matching an absolute glob pattern (`*`, `?`, `[…]` per segment, `**` for any depth). */
export function expandGlob(pattern: string): string[] {
  const segments = pattern.split('/').filter(Boolean)
  const out = new Set<string>()
  const walk = (base: string, index: number, depth: number) => {
    if (out.size >= MAX_MATCHES) return
    if (index === segments.length) {
      out.add(base === '' ? '/' : base)
      return
    }
    const segment = segments[index] as string
    const dir = base === '' ? '/' : base
    if (segment === '**') {
      walk(base, index + 1, depth)
      if (depth >= MAX_GLOBSTAR_DEPTH) return
      for (const name of listDir(dir)) {
        if (isRealDir(join(dir, name))) walk(join(dir, name), index, depth + 1)
      }
      return
    }
    if (!hasGlob(segment)) {
      const next = join(dir, segment)
      if (index === segments.length - 1 ? exists(next) : isRealDir(next)) walk(next, index + 1, depth)
      return
    }
    const matcher = segmentMatcher(segment)
    for (const name of listDir(dir)) {
      if (matcher.test(name)) walk(join(dir, name), index + 1, depth)
    }
  }
  walk('', 0, 0)
  return [...out]
}

function exists(path: string): boolean {
  try {
    statSync(path)
    return true
  } catch {
    return false
  }
}

/**
 * The masks for a list of patterns: each match resolved to its real path (a symlink would
 * otherwise point around the mask), directories before their contents, duplicates and paths
 * inside an already hidden directory dropped. Paths for which `alreadyHidden` is true (under fresh
 * tmpfs mounts inside the sandbox, where nothing of the host shows) are dropped too.
 */
export function resolveMasks(patterns: readonly string[], alreadyHidden: (path: string) => boolean = () => false): Mask[] {
  const found = new Map<string, Mask['kind']>()
  for (const pattern of patterns) {
    for (const match of expandGlob(pattern)) {
      let real: string
      try {
        real = realpathSync(match)
      } catch {
        continue
      }
      found.set(real, isRealDir(real) ? 'dir' : 'file')
    }
  }
  const sorted = [...found.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const masks: Mask[] = []
  for (const [path, kind] of sorted) {
    if (path === '/') continue
    if (alreadyHidden(path)) continue
    if (masks.some((m) => m.kind === 'dir' && isUnder(path, m.path))) continue
    masks.push({path, kind})
  }
  return masks
}

/** True when `path` is `dir` or lies inside it. */
export function isUnder(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(`${dir}/`)
}
