import {closeSync, constants, openSync, readdirSync, readlinkSync, type Stats} from 'node:fs'
import {posix} from 'node:path'
import {UsageError} from '../../../lib/errors.js'
import type {DirectoryListInput, DirectoryListOutput} from './api.js'
import {splitPath} from './glob.js'
import {checkPath, fdRealPath, isDeniedPath, mapFsError, pathDenied, verifyOpenFd, type CheckedPath, type PathPolicy} from './path-policy.js'
import {lstatOrNull, octal} from './stat.js'

/** What directory_list needs besides its input. */
export interface ListDeps {
  policy: PathPolicy
  beforeOpen?: (checked: CheckedPath) => void
}

type Entry = DirectoryListOutput['entries'][number]

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW

/**
 * Lists a directory under the read roots (SPEC §2.1 POST /file/list), breadth first so a truncated
 * listing shows the shallow levels. Symlinks are listed with their target and never followed;
 * subdirectories are opened relative to the listed directory's descriptor, so the walk cannot leave
 * it; entries on the deny list are left out.
 */
export function listDirectory(input: DirectoryListInput, deps: ListDeps): DirectoryListOutput {
  const checked = checkPath(input.path, {access: 'read'}, deps.policy)
  deps.beforeOpen?.(checked)
  let rootFd: number
  try {
    rootFd = openSync(checked.resolved, DIR_FLAGS)
  } catch (error) {
    // O_DIRECTORY|O_NOFOLLOW on a symlink fails with ENOTDIR: one was swapped in after the check.
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') {
      if (lstatOrNull(checked.resolved)?.isSymbolicLink()) throw pathDenied(checked.path, 'changed_during_check', `${checked.path} became a symlink while it was being opened`)
      throw notADirectory(checked.path)
    }
    mapFsError(error, checked.path)
  }
  try {
    const rootReal = verifyOpenFd(rootFd, checked, 'read', deps.policy)
    const entries: Entry[] = []
    const maxDepth = input.recursive ? input.max_depth : 1
    const queue: {rel: string; depth: number}[] = [{rel: '', depth: 1}]
    while (queue.length > 0) {
      const {rel, depth} = queue.shift()!
      const dirFd = rel === '' ? rootFd : openInside(rootFd, rootReal, rel)
      if (dirFd === null) continue
      try {
        for (const name of readdirSync(`/proc/self/fd/${dirFd}`).sort()) {
          if (!input.include_hidden && name.startsWith('.')) continue
          const childRel = rel === '' ? name : `${rel}/${name}`
          const display = posix.join(checked.path, childRel)
          const real = posix.join(rootReal, childRel)
          if (isDenied(display, real, deps.policy)) continue
          const stat = lstatOrNull(`/proc/self/fd/${dirFd}/${name}`)
          if (!stat) continue
          if (entries.length === input.limit) return {path: checked.path, entries, truncated: true}
          entries.push(toEntry(name, display, stat, `/proc/self/fd/${dirFd}/${name}`))
          if (stat.isDirectory() && depth < maxDepth) queue.push({rel: childRel, depth: depth + 1})
        }
      } finally {
        if (dirFd !== rootFd) closeSync(dirFd)
      }
    }
    return {path: checked.path, entries, truncated: false}
  } finally {
    closeSync(rootFd)
  }
}

function notADirectory(path: string): UsageError {
  return new UsageError(`${path} is not a directory`, {details: ['path: not a directory'], hint: 'use file_read for files'})
}

/** Opens `rel` below the root descriptor without following symlinks; null if it vanished or changed. */
function openInside(rootFd: number, rootReal: string, rel: string): number | null {
  let fd = rootFd
  try {
    for (const name of splitPath(rel)) {
      const next = openSync(`/proc/self/fd/${fd}/${name}`, DIR_FLAGS)
      if (fd !== rootFd) closeSync(fd)
      fd = next
    }
  } catch {
    if (fd !== rootFd) closeSync(fd)
    return null
  }
  if (fdRealPath(fd) !== posix.join(rootReal, rel)) {
    closeSync(fd)
    return null
  }
  return fd
}

function isDenied(display: string, real: string, policy: PathPolicy): boolean {
  return isDeniedPath(policy, display) || isDeniedPath(policy, real)
}

function toEntry(name: string, path: string, stat: Stats, at: string): Entry {
  const type = stat.isFile() ? 'file' : stat.isDirectory() ? 'dir' : stat.isSymbolicLink() ? 'symlink' : 'other'
  let target: string | null = null
  if (type === 'symlink') {
    try {
      target = readlinkSync(at)
    } catch {
      target = null
    }
  }
  return {name, path, type, size: stat.size, mode: octal(stat.mode), mtime: new Date(stat.mtimeMs).toISOString(), target}
}
