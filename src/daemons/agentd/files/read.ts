import {closeSync, constants, fstatSync, openSync, readSync} from 'node:fs'
import {OsmodaError, UsageError} from '../../../lib/errors.js'
import type {FileReadInput, FileReadOutput} from './api.js'
import {checkPath, mapFsError, verifyOpenFd, type CheckedPath, type PathPolicy} from './path-policy.js'
import {lstatOrNull} from './stat.js'

/** What file_read needs besides its input. */
export interface ReadDeps {
  policy: PathPolicy
  maxReadBytes: number
  /** Test seam: runs between the policy check and the open (to swap in a symlink). */
  beforeOpen?: (checked: CheckedPath) => void
}

const utf8 = new TextDecoder('utf-8', {fatal: true})

/** Reads a window of lines of one file under the read roots (SPEC §2.1 POST /file/read). */
export function readFile(input: FileReadInput, deps: ReadDeps): FileReadOutput {
  const checked = checkPath(input.path, {access: 'read'}, deps.policy)
  // Refuse non-files before opening: opening a device node or a FIFO can have side effects.
  const before = lstatOrNull(checked.resolved)
  if (before?.isDirectory()) throw isDirectory(checked.path)
  if (before && !before.isFile()) throw notRegular(checked.path)
  deps.beforeOpen?.(checked)
  let fd: number
  try {
    fd = openSync(checked.resolved, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (error) {
    mapFsError(error, checked.path)
  }
  try {
    verifyOpenFd(fd, checked, 'read', deps.policy)
    const stat = fstatSync(fd)
    if (stat.isDirectory()) throw isDirectory(checked.path)
    if (!stat.isFile()) throw notRegular(checked.path)
    if (stat.size > deps.maxReadBytes) throw tooLarge(checked.path, stat.size, deps.maxReadBytes)
    const data = readAll(fd, deps.maxReadBytes)
    if (data === null) throw tooLarge(checked.path, stat.size, deps.maxReadBytes)
    if (input.encoding === 'utf8' && !isText(data)) {
      throw new UsageError(`${checked.path} is binary, not UTF-8 text`, {details: ['encoding: the file is not UTF-8 text'], hint: 'read it with encoding: "base64"'})
    }
    const lines = lineStarts(data)
    const first = Math.min(input.offset_line, lines.length + 1)
    const end = Math.min(lines.length, first - 1 + input.max_lines)
    const from = first <= lines.length ? lines[first - 1]! : data.length
    const to = end < lines.length ? lines[end]! : data.length
    const slice = data.subarray(from, to)
    return {
      path: checked.path,
      resolved_path: checked.resolved,
      size: data.length,
      mtime: new Date(stat.mtimeMs).toISOString(),
      encoding: input.encoding,
      content: input.encoding === 'utf8' ? slice.toString('utf8') : slice.toString('base64'),
      first_line: input.offset_line,
      lines_returned: Math.max(0, end - (first - 1)),
      total_lines: lines.length,
      truncated: end < lines.length,
    }
  } finally {
    closeSync(fd)
  }
}

function isDirectory(path: string): UsageError {
  return new UsageError(`${path} is a directory`, {details: ['path: is a directory'], hint: 'use directory_list for directories'})
}

function notRegular(path: string): UsageError {
  return new UsageError(`${path} is not a regular file`, {details: ['path: not a regular file (device, FIFO or socket)']})
}

function tooLarge(path: string, size: number, max: number): OsmodaError {
  return new OsmodaError('PAYLOAD_TOO_LARGE', `${path} is ${size} bytes, over the ${max}-byte read limit (files.maxReadBytes)`, {
    details: {path, size_bytes: size, max_bytes: max},
    hint: 'read a slice with shell_exec instead, e.g. `tail -n 200 <path>` or `head -c 65536 <path>`',
  })
}

/** Reads the whole file, or null when it grew beyond `max` since fstat. */
function readAll(fd: number, max: number): Buffer | null {
  const chunks: Buffer[] = []
  let total = 0
  for (;;) {
    const chunk = Buffer.allocUnsafe(Math.min(1024 * 1024, max + 1 - total))
    const n = readSync(fd, chunk, 0, chunk.length, null)
    if (n === 0) break
    chunks.push(chunk.subarray(0, n))
    total += n
    if (total > max) return null
  }
  return Buffer.concat(chunks, total)
}

/** Text: valid UTF-8 without NUL bytes (NUL is legal UTF-8 but marks binary formats). */
function isText(data: Buffer): boolean {
  if (data.includes(0)) return false
  try {
    utf8.decode(data)
    return true
  } catch {
    return false
  }
}

/** Byte offsets where each line starts; a trailing newline does not start another line. */
function lineStarts(data: Buffer): number[] {
  if (data.length === 0) return []
  const starts = [0]
  let at = data.indexOf(0x0a)
  while (at !== -1 && at + 1 < data.length) {
    starts.push(at + 1)
    at = data.indexOf(0x0a, at + 1)
  }
  return starts
}
