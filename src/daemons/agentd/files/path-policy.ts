import {lstatSync, readlinkSync, realpathSync} from 'node:fs'
import {posix} from 'node:path'
import {NotFoundError, OsmodaError, PermissionDeniedError} from '../../../lib/errors.js'
import type {OsmodaPaths} from '../../../lib/paths.js'
import {expandStatePath} from '../hands-config.js'
import {compileGlob, matchedPrefixes, splitPath, type Glob} from './glob.js'

/**
 * The path policy of SPEC §2.1 for the file tools, shell_exec `cwd` and sandbox binds: syntax first
 * (absolute, ≤ 4096 bytes, no NUL, no `..`), then the path is resolved (symlinks followed, the
 * missing tail appended), the literal and the resolved path are checked against the deny globs,
 * and the resolved path must lie under a read or write root. After opening, `verifyOpenFd` checks
 * the real path of the descriptor again, so a symlink swapped in after the check cannot redirect
 * the operation.
 */

/** The `files.*` keys the policy is built from. */
export interface FilesPolicyConfig {
  readRoots: readonly string[]
  denyPaths: readonly string[]
  writeRoots: readonly {path: string; approval: boolean}[]
}

interface Root {
  /** The configured root with `<state>` expanded. */
  path: string
  approval: boolean
  globs: Glob[]
}

/** A compiled policy; build one per request so roots that appear later are resolved. */
export interface PathPolicy {
  readRoots: Root[]
  writeRoots: Root[]
  deny: Glob[]
}

/** What may be done: read (file_read, directory_list, cwd, read-only binds) or write. */
export type PathAccess = 'read' | 'write'

/** A path that passed the policy. */
export interface CheckedPath {
  /** The request's path, normalised (`.` segments and repeated slashes removed). */
  path: string
  /** The path with every existing symlink resolved. */
  resolved: string
  /** The root that allowed it (for writes: the most specific write root). */
  root: string
  /** For writes: the matching write root needs the operator's approval. */
  approval: boolean
}

/** Why a path was refused, in `details.reason` of PATH_DENIED. */
export type DenyReason = 'not_absolute' | 'too_long' | 'nul' | 'traversal' | 'denied' | 'outside_roots' | 'symlink_loop' | 'changed_during_check'

const MAX_PATH_BYTES = 4096
const MAX_SYMLINKS = 40

/** A 403 PATH_DENIED with `details.path` and `details.reason`. */
export function pathDenied(path: string, reason: DenyReason, message: string, hint?: string): OsmodaError {
  return new PermissionDeniedError('PATH_DENIED', message, {details: {path: path.slice(0, MAX_PATH_BYTES), reason}, hint})
}

/** The globs of one configured pattern: as written, and with its literal part's real path if that differs. */
function compileVariants(pattern: string): Glob[] {
  const glob = compileGlob(pattern)
  let real: string
  try {
    real = realpathSync.native(glob.literalPrefix)
  } catch {
    return [glob]
  }
  if (real === glob.literalPrefix) return [glob]
  const rest = pattern.slice(glob.literalPrefix.length)
  return [glob, compileGlob(real === '/' ? rest || '/' : real + rest)]
}

/** Builds the policy from the `files` config; `<state>` expands to the state dir. */
export function compilePathPolicy(config: FilesPolicyConfig, paths: Pick<OsmodaPaths, 'stateDir'>): PathPolicy {
  const root = (path: string, approval: boolean): Root => {
    const expanded = expandStatePath(path, paths)
    return {path: expanded, approval, globs: compileVariants(expanded)}
  }
  return {
    readRoots: config.readRoots.map((path) => root(path, false)),
    writeRoots: config.writeRoots.map((r) => root(r.path, r.approval)),
    deny: config.denyPaths.flatMap((path) => compileVariants(expandStatePath(path, paths))),
  }
}

/** Checks the syntax of a requested path and returns it normalised. */
export function normalizeRequestedPath(path: string): string {
  if (path.includes('\0')) throw pathDenied(path.replaceAll('\0', '\\0'), 'nul', 'path contains a NUL byte')
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) throw pathDenied(path, 'too_long', `path is longer than ${MAX_PATH_BYTES} bytes`)
  if (!path.startsWith('/')) throw pathDenied(path, 'not_absolute', 'path must be absolute', 'give the full path, e.g. /srv/app/config.yml')
  if (path.split('/').includes('..')) throw pathDenied(path, 'traversal', 'path contains a ".." segment', 'give the path without ".." segments')
  const normal = posix.normalize(path)
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal
}

const join = (dir: string, name: string) => (dir === '/' ? `/${name}` : `${dir}/${name}`)

/**
 * Resolves every symlink of the existing part of `path` and appends the part that does not exist,
 * like `realpath -m`, but following dangling links too (a write through one lands at its target).
 */
export function resolvePath(path: string): string {
  let links = 0
  const walk = (base: string, segments: string[]): string => {
    let current = base
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!
      if (segment === '.') continue
      if (segment === '..') {
        current = posix.dirname(current)
        continue
      }
      const next = join(current, segment)
      let isLink: boolean
      try {
        isLink = lstatSync(next).isSymbolicLink()
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error
        const rest = segments.slice(i + 1)
        // A link target may climb out of a directory that does not exist yet; nothing sane resolves that.
        if (rest.includes('..')) throw pathDenied(path, 'traversal', 'path resolves through a symlink with ".." below a missing directory')
        return [next, ...rest.filter((s) => s !== '.')].reduce(join)
      }
      if (isLink) {
        if (++links > MAX_SYMLINKS) throw pathDenied(path, 'symlink_loop', 'too many levels of symbolic links')
        const target = readlinkSync(next)
        return walk(target.startsWith('/') ? '/' : current, [...splitPath(target), ...segments.slice(i + 1)])
      }
      current = next
    }
    return current
  }
  return walk('/', splitPath(path))
}

/** True when the path or one of its ancestors matches a deny glob. */
export function isDeniedPath(policy: PathPolicy, path: string): boolean {
  const segments = splitPath(path)
  return policy.deny.some((glob) => matchedPrefixes(glob, segments).length > 0)
}

/** The most specific root covering `path` (longest matched prefix, then the longest literal part). */
function bestRoot(roots: readonly Root[], path: string): Root | null {
  const segments = splitPath(path)
  let best: {root: Root; depth: number; literal: number} | null = null
  for (const root of roots) {
    for (const glob of root.globs) {
      const depth = Math.max(-1, ...matchedPrefixes(glob, segments))
      if (depth < 0) continue
      const literal = glob.literalPrefix.length
      if (!best || depth > best.depth || (depth === best.depth && literal > best.literal)) best = {root, depth, literal}
    }
  }
  return best?.root ?? null
}

/** Checks a path that is already real (no symlinks): deny list, then roots. */
export function checkRealPath(requested: string, real: string, access: PathAccess, policy: PathPolicy): {root: string; approval: boolean} {
  if (isDeniedPath(policy, real)) throw pathDenied(requested, 'denied', `${requested} is on the deny list (files.denyPaths)`)
  const root = bestRoot(access === 'read' ? policy.readRoots : policy.writeRoots, real)
  if (!root) {
    const roots = (access === 'read' ? policy.readRoots : policy.writeRoots).map((r) => r.path)
    throw pathDenied(requested, 'outside_roots', `${requested} is outside the ${access} roots (files.${access}Roots)`, `allowed: ${roots.slice(0, 12).join(' ')}`)
  }
  return {root: root.path, approval: root.approval}
}

/** Applies the whole policy to a requested path; throws 403 PATH_DENIED with `details.path`. */
export function checkPath(path: string, options: {access: PathAccess}, policy: PathPolicy): CheckedPath {
  const normal = normalizeRequestedPath(path)
  if (isDeniedPath(policy, normal)) throw pathDenied(normal, 'denied', `${normal} is on the deny list (files.denyPaths)`)
  const resolved = resolvePath(normal)
  const {root, approval} = checkRealPath(normal, resolved, options.access, policy)
  return {path: normal, resolved, root, approval}
}

/** The real path of an open descriptor, from /proc/self/fd. */
export function fdRealPath(fd: number): string {
  return readlinkSync(`/proc/self/fd/${fd}`)
}

/**
 * Re-checks what an open descriptor really refers to (closes the race between the check and the
 * open): its real path must pass the same policy, and a write may not land under a root that needs
 * approval when the checked path did not. Returns the real path.
 */
export function verifyOpenFd(fd: number, checked: CheckedPath, access: PathAccess, policy: PathPolicy): string {
  return verifyReal(fdRealPath(fd), checked, access, policy)
}

/** Like verifyOpenFd for the entry `name` inside the open directory `dirFd` (a file about to be created). */
export function verifyDirEntry(dirFd: number, name: string, checked: CheckedPath, access: PathAccess, policy: PathPolicy): string {
  const dir = fdRealPath(dirFd)
  if (dir.endsWith(' (deleted)')) throw changedDuringCheck(checked.path)
  return verifyReal(join(dir, name), checked, access, policy)
}

function changedDuringCheck(path: string): OsmodaError {
  return pathDenied(path, 'changed_during_check', `${path} changed while it was being opened`, 'retry; if it keeps failing, something is swapping symlinks in this path')
}

function verifyReal(real: string, checked: CheckedPath, access: PathAccess, policy: PathPolicy): string {
  if (!real.startsWith('/') || real.endsWith(' (deleted)')) throw changedDuringCheck(checked.path)
  let verdict: {approval: boolean}
  try {
    verdict = checkRealPath(checked.path, real, access, policy)
  } catch (error) {
    if (error instanceof OsmodaError && error.code === 'PATH_DENIED') throw changedDuringCheck(checked.path)
    throw error
  }
  if (access === 'write' && verdict.approval && !checked.approval) throw changedDuringCheck(checked.path)
  return real
}

/** Maps an fs error of an operation on `path` to the SPEC codes (404, 403) or rethrows it. */
export function mapFsError(error: unknown, path: string): never {
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ENOENT' || code === 'ENOTDIR') throw new NotFoundError(`${path} does not exist`, {details: {path}})
  if (code === 'ELOOP') throw pathDenied(path, 'changed_during_check', `${path} became a symlink while it was being opened`)
  if (code === 'EACCES' || code === 'EPERM') throw pathDenied(path, 'denied', `the operating system refused access to ${path}`)
  throw error
}
