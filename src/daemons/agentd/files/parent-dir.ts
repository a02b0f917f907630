import {closeSync, constants, fchmodSync, fchownSync, fstatSync, mkdirSync, openSync, type Stats} from 'node:fs'
import {posix} from 'node:path'
import {OsmodaError} from '../../../lib/errors.js'
import {splitPath} from './glob.js'
import {lstatOrNull} from './stat.js'
import {checkRealPath, fdRealPath, mapFsError, pathDenied, type CheckedPath, type PathPolicy} from './path-policy.js'

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW

/**
 * Opens the directory a file will be written in, creating the missing ones when asked. Every
 * created directory is made and opened relative to its parent's descriptor (through
 * /proc/self/fd/<fd>/<name>, Node's stand-in for mkdirat/openat), must itself lie under a write
 * root, gets mode 0755 and the owner and group of its parent. Returns the open descriptor.
 */
export function openParentDir(parent: string, createDirs: boolean, checked: CheckedPath, policy: PathPolicy): number {
  const direct = openDir(parent, checked)
  if (direct !== null) return direct
  if (!createDirs) throw new OsmodaError('NOT_FOUND', `the directory of ${checked.path} does not exist`, {details: {path: checked.path}, hint: 'set create_dirs: true to create it'})
  const segments = splitPath(parent)
  let fd: number | null = null
  let depth = segments.length
  while (fd === null && depth > 0) fd = openDir(`/${segments.slice(0, --depth).join('/')}`, checked)
  if (fd === null) throw new OsmodaError('NOT_FOUND', `no directory of ${checked.path} exists`, {details: {path: checked.path}})
  try {
    for (const name of segments.slice(depth)) {
      const next = createDirAt(fd, name, checked, policy)
      closeSync(fd)
      fd = next
    }
    return fd
  } catch (error) {
    closeSync(fd)
    throw error
  }
}

/** Opens a directory without following a final symlink; null when it does not exist. */
function openDir(path: string, checked: CheckedPath): number | null {
  try {
    return openSync(path, DIR_FLAGS)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return null
    // O_DIRECTORY|O_NOFOLLOW on a symlink fails with ENOTDIR: one was swapped in after the check.
    if (code === 'ENOTDIR' && lstatOrNull(path)?.isSymbolicLink()) {
      throw pathDenied(checked.path, 'changed_during_check', `a directory of ${checked.path} became a symlink while it was being opened`)
    }
    mapFsError(error, checked.path)
  }
}

function createDirAt(dirFd: number, name: string, checked: CheckedPath, policy: PathPolicy): number {
  const real = posix.join(fdRealPath(dirFd), name)
  try {
    checkRealPath(checked.path, real, 'write', policy)
  } catch {
    throw pathDenied(checked.path, 'outside_roots', `creating ${real} for ${checked.path} would leave the write roots`, 'create the directory inside a write root')
  }
  const at = `/proc/self/fd/${dirFd}/${name}`
  let made = true
  try {
    mkdirSync(at, 0o700)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    made = false
  }
  let fd: number
  try {
    fd = openSync(at, DIR_FLAGS)
  } catch (error) {
    mapFsError(error, checked.path)
  }
  try {
    if (fdRealPath(fd) !== real) throw pathDenied(checked.path, 'changed_during_check', `${checked.path} changed while its directories were being created`)
    if (made) {
      chownLike(fd, fstatSync(dirFd))
      fchmodSync(fd, 0o755)
    }
    return fd
  } catch (error) {
    closeSync(fd)
    throw error
  }
}

/** Gives `fd` the owner and group of `like`; in dev mode (not root) a foreign owner is out of reach (SPEC §1.2). */
export function chownLike(fd: number, like: Pick<Stats, 'uid' | 'gid'>): void {
  const now = fstatSync(fd)
  if (now.uid === like.uid && now.gid === like.gid) return
  try {
    fchownSync(fd, like.uid, like.gid)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM' || process.getuid?.() === 0) throw error
  }
}
