import {closeSync, constants, fsyncSync, openSync, renameSync, writeSync} from 'node:fs'
import {dirname, join, basename} from 'node:path'
import {randomBytes} from 'node:crypto'

/**
 * Writes a file atomically: temp file in the same directory (O_EXCL, final mode from the start),
 * fsync, rename, fsync the directory. A crash leaves the old file or the new one, never half.
 */
export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): void {
  const dir = dirname(path)
  const temp = join(dir, `.${basename(path)}.osmoda-${randomBytes(6).toString('hex')}`)
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode)
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(temp, path)
  fsyncDir(dir)
}

/**
 * Creates a file only if it does not exist yet (O_EXCL), durably. Returns false when it already
 * existed: keys are never overwritten.
 */
export function createFileExclusive(path: string, data: string | Buffer, mode: number): boolean {
  let fd: number
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  }
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  fsyncDir(dirname(path))
  return true
}

/** fsync a directory so a rename or create inside it is durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY)
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
