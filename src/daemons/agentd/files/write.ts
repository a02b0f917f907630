import {createHash, randomBytes} from 'node:crypto'
import {closeSync, constants, fchmodSync, fstatSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync, type Stats} from 'node:fs'
import {posix} from 'node:path'
import {OsmodaError, UsageError} from '../../../lib/errors.js'
import type {Ledger} from '../../../lib/ledger/ledger.js'
import type {RequestContext} from '../../../lib/rpc/server.js'
import type {Gate} from '../approvals/types.js'
import type {FileWriteInput, FileWriteOutput} from './api.js'
import {chownLike, openParentDir} from './parent-dir.js'
import {lstatOrNull, octal} from './stat.js'
import {checkPath, mapFsError, pathDenied, verifyDirEntry, verifyOpenFd, type CheckedPath, type PathPolicy} from './path-policy.js'

/** What file_write needs besides its input. */
export interface WriteDeps {
  policy: PathPolicy
  maxWriteBytes: number
  gate: Gate
  ledger: Pick<Ledger, 'append'>
  hooks?: WriteHooks
}

/** Test seams: a symlink swapped in after the check, a failure before the rename. */
export interface WriteHooks {
  beforeOpen?: (checked: CheckedPath) => void
  beforeRename?: (tempPath: string) => void
}

const {O_WRONLY, O_CREAT, O_EXCL, O_APPEND, O_NOFOLLOW, O_NONBLOCK} = constants
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/**
 * Writes a file under the write roots (SPEC §2.1 POST /file/write): atomically through a temp file
 * and rename, or appended with O_APPEND. Passes the gate (policy hint from the write root) first.
 */
export function writeFile(input: FileWriteInput, ctx: Pick<RequestContext, 'role' | 'actor'>, deps: WriteDeps): FileWriteOutput {
  const checked = checkPath(input.path, {access: 'write'}, deps.policy)
  const data = decodeContent(input)
  if (data.length > deps.maxWriteBytes) {
    throw new OsmodaError('PAYLOAD_TOO_LARGE', `content is ${data.length} bytes, over the ${deps.maxWriteBytes}-byte write limit (files.maxWriteBytes)`, {
      details: {path: checked.path, size_bytes: data.length, max_bytes: deps.maxWriteBytes},
    })
  }
  precheck(checked, input.create_dirs)
  const sha256 = createHash('sha256').update(data).digest('hex')
  const {approval_id: approvalId, ...body} = input
  const decision = deps.gate.check({
    operation: 'file_write',
    method: 'POST',
    path: '/file/write',
    body,
    ctx,
    summary: summarize(input, checked, data.length, sha256),
    hint: checked.approval ? 'required' : 'not_required',
    approvalId: approvalId ?? null,
  })
  deps.hooks?.beforeOpen?.(checked)
  const mode = input.mode === undefined ? null : Number.parseInt(input.mode, 8)
  const name = posix.basename(checked.resolved)
  const dirFd = openParentDir(posix.dirname(checked.resolved), input.create_dirs, checked, deps.policy)
  let result: {created: boolean; mode: number}
  try {
    verifyDirEntry(dirFd, name, checked, 'write', deps.policy)
    result = input.append ? appendAt(dirFd, name, data, mode, checked, deps.policy) : replaceAt(dirFd, name, data, mode, checked, deps.hooks)
  } finally {
    closeSync(dirFd)
  }
  deps.ledger.append({
    type: 'file.written',
    actor: ctx.actor,
    payload: {path: checked.resolved, bytes: data.length, sha256, created: result.created, append: input.append, approval_id: decision.approval_id},
  })
  return {path: checked.path, bytes: data.length, sha256, created: result.created, mode: octal(result.mode)}
}

function decodeContent(input: FileWriteInput): Buffer {
  if (input.encoding === 'utf8') return Buffer.from(input.content, 'utf8')
  if (!BASE64_RE.test(input.content)) throw new UsageError('content is not valid base64', {details: ['content: not valid base64 (A-Z a-z 0-9 + /, padded with =)']})
  return Buffer.from(input.content, 'base64')
}

/** Fails early (before asking for an approval) on writes that cannot succeed. */
function precheck(checked: CheckedPath, createDirs: boolean): void {
  if (checked.resolved === '/') throw new UsageError('cannot write to /', {details: ['path: is a directory']})
  const target = lstatOrNull(checked.resolved)
  if (target?.isDirectory()) throw new UsageError(`${checked.path} is a directory`, {details: ['path: is a directory'], hint: 'give the path of a file inside it'})
  if (target && !target.isFile()) throw new UsageError(`${checked.path} is not a regular file`, {details: ['path: not a regular file']})
  if (!target && !createDirs) {
    const parent = lstatOrNull(posix.dirname(checked.resolved))
    if (!parent) throw new OsmodaError('NOT_FOUND', `the directory of ${checked.path} does not exist`, {details: {path: checked.path}, hint: 'set create_dirs: true to create it'})
    if (!parent.isDirectory()) throw new UsageError(`the parent of ${checked.path} is not a directory`, {details: ['path: parent is not a directory']})
  }
}

function summarize(input: FileWriteInput, checked: CheckedPath, bytes: number, sha256: string): string {
  const via = checked.resolved === checked.path ? '' : ` (resolves to ${checked.resolved})`
  const mode = input.mode === undefined ? '' : `, mode ${input.mode}`
  const text = `${input.append ? 'append' : 'write'} ${bytes} bytes (sha256 ${sha256.slice(0, 16)}) to ${checked.path}${via}${mode}`
  return text.length > 500 ? `${text.slice(0, 497)}...` : text
}

/** Replaces (or creates) `name` atomically: temp file with O_EXCL, fsync, rename, fsync the directory. */
function replaceAt(dirFd: number, name: string, data: Buffer, mode: number | null, checked: CheckedPath, hooks: WriteHooks | undefined): {created: boolean; mode: number} {
  const at = (entry: string) => `/proc/self/fd/${dirFd}/${entry}`
  const existing = entryStat(at(name), checked)
  const owner = existing ?? fstatSync(dirFd)
  // Existing files keep their mode minus setuid/setgid, as the kernel drops them when a file is rewritten.
  const finalMode = mode ?? (existing ? existing.mode & 0o1777 : 0o644)
  const temp = `.${truncateName(name)}.osmoda-${randomBytes(6).toString('hex')}`
  const fd = openSync(at(temp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
  let renamed = false
  try {
    try {
      writeAll(fd, data)
      chownLike(fd, owner)
      fchmodSync(fd, finalMode)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    hooks?.beforeRename?.(at(temp))
    renameSync(at(temp), at(name))
    renamed = true
    fsyncSync(dirFd)
  } finally {
    if (!renamed) removeQuietly(at(temp))
  }
  return {created: existing === null, mode: finalMode}
}

/** Appends to `name` (created if missing) with O_APPEND and fsync; not atomic by design. */
function appendAt(dirFd: number, name: string, data: Buffer, mode: number | null, checked: CheckedPath, policy: PathPolicy): {created: boolean; mode: number} {
  const at = `/proc/self/fd/${dirFd}/${name}`
  entryStat(at, checked)
  let created = true
  let fd: number
  try {
    fd = openSync(at, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') mapFsError(error, checked.path)
    created = false
    try {
      fd = openSync(at, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK)
    } catch (again) {
      mapFsError(again, checked.path)
    }
  }
  try {
    verifyOpenFd(fd, checked, 'write', policy)
    const stat = fstatSync(fd)
    if (!stat.isFile()) throw new UsageError(`${checked.path} is not a regular file`, {details: ['path: not a regular file']})
    if (created) {
      chownLike(fd, fstatSync(dirFd))
      fchmodSync(fd, mode ?? 0o644)
    } else if (mode !== null) fchmodSync(fd, mode)
    writeAll(fd, data)
    fsyncSync(fd)
    if (created) fsyncSync(dirFd)
    return {created, mode: fstatSync(fd).mode & 0o7777}
  } finally {
    closeSync(fd)
  }
}

/** The entry's stat, null when missing; a symlink here means it was swapped in after the check. */
function entryStat(path: string, checked: CheckedPath): Stats | null {
  const stat = lstatOrNull(path)
  if (stat?.isSymbolicLink()) throw pathDenied(checked.path, 'changed_during_check', `${checked.path} became a symlink while it was being written`)
  if (stat?.isDirectory()) throw new UsageError(`${checked.path} is a directory`, {details: ['path: is a directory']})
  if (stat && !stat.isFile()) throw new UsageError(`${checked.path} is not a regular file`, {details: ['path: not a regular file']})
  return stat
}

function writeAll(fd: number, data: Buffer): void {
  let offset = 0
  while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset)
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // Never created or already gone.
  }
}

/** At most 200 bytes of the name, so the temp name stays under NAME_MAX (255). */
function truncateName(name: string): string {
  let out = ''
  for (const c of name) {
    if (Buffer.byteLength(out + c) > 200) break
    out += c
  }
  return out
}
