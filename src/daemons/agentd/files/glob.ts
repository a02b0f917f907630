/**
 * Path globs for the file policy (SPEC §2.1 `files.*`): `*` matches any run of characters inside one
 * path segment, `?` one character inside a segment, and a whole `**` segment matches zero or more
 * segments. `*` and `?` also match a leading dot, so a deny pattern for every user's `.ssh` cannot
 * be dodged by a home directory named `.x`. Patterns are absolute; matching works on segments.
 */

type Segment = {kind: 'any'} | {kind: 'literal'; text: string} | {kind: 'pattern'; regex: RegExp}

/** A compiled glob. */
export interface Glob {
  source: string
  segments: readonly Segment[]
  /** The path up to the first wildcard segment, e.g. `/var/lib/osmoda` for `/var/lib/osmoda/workspace-*`. */
  literalPrefix: string
}

/** The segments of an absolute path (`/` → []). */
export function splitPath(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '')
}

function compileSegment(text: string): Segment {
  if (text === '**') return {kind: 'any'}
  if (!/[*?]/.test(text)) return {kind: 'literal', text}
  const body = [...text].map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')
  return {kind: 'pattern', regex: new RegExp(`^${body}$`, 's')}
}

/** Compiles an absolute glob. */
export function compileGlob(source: string): Glob {
  const segments = splitPath(source).map(compileSegment)
  const firstWild = segments.findIndex((s) => s.kind !== 'literal')
  const literal = (firstWild === -1 ? segments : segments.slice(0, firstWild)) as {kind: 'literal'; text: string}[]
  return {source, segments, literalPrefix: `/${literal.map((s) => s.text).join('/')}`}
}

function segmentMatches(segment: Segment, text: string): boolean {
  if (segment.kind === 'literal') return segment.text === text
  if (segment.kind === 'pattern') return segment.regex.test(text)
  return true
}

/**
 * The lengths (in segments) of every prefix of `path` that the glob matches whole, ascending.
 * A root or deny entry covers a path when it matches the path itself or one of its ancestors.
 */
export function matchedPrefixes(glob: Glob, path: readonly string[]): number[] {
  const found = new Set<number>()
  const seen = new Set<number>()
  const width = path.length + 1
  const visit = (pi: number, si: number): void => {
    const key = pi * width + si
    if (seen.has(key)) return
    seen.add(key)
    if (pi === glob.segments.length) {
      found.add(si)
      return
    }
    const segment = glob.segments[pi]!
    if (segment.kind === 'any') {
      visit(pi + 1, si)
      if (si < path.length) visit(pi, si + 1)
      return
    }
    if (si < path.length && segmentMatches(segment, path[si]!)) visit(pi + 1, si + 1)
  }
  visit(0, 0)
  return [...found].sort((a, b) => a - b)
}

/** True when the glob matches the whole path. */
export function globMatches(glob: Glob, path: string): boolean {
  const segments = splitPath(path)
  return matchedPrefixes(glob, segments).includes(segments.length)
}

/** True when the glob matches the path or one of its ancestors (the path lies inside a matched tree). */
export function globCovers(glob: Glob, path: string): boolean {
  return matchedPrefixes(glob, splitPath(path)).length > 0
}
