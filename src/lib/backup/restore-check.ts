import {createHash} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {promisify} from 'node:util'
import {gunzip} from 'node:zlib'
import {VerificationError} from '../errors.js'
import {BackupManifest, MANIFEST_NAME} from './manifest.js'
import {parseTar, type TarEntry} from './tar.js'

const gunzipAsync = promisify(gunzip)

/** Top-level names an archive may never hold: a restore carries the host's own over instead. */
const FORBIDDEN_TOP = new Set(['tokens', 'identity'])

/** A checked archive: its manifest and its members, every one safe to extract. */
export interface CheckedArchive {
  manifest: BackupManifest
  entries: TarEntry[]
}

/** Why a member path is unsafe, or null when it is a plain relative path inside the archive. */
export function memberPathProblem(name: string): string | null {
  if (name === '') return 'empty path'
  if (name.length > 4096) return 'path too long'
  if (name.startsWith('/')) return 'absolute path'
  if (name.includes('\0') || name.includes('\\')) return 'NUL or backslash in path'
  const segments = name.split('/')
  if (segments.some((s) => s === '..')) return '".." segment'
  if (segments.some((s) => s === '' || s === '.')) return 'empty or "." segment'
  return null
}

/** Reads and un-gzips an archive; a damaged file is a VerificationError. */
export async function readArchive(path: string): Promise<TarEntry[]> {
  const bytes = await readFile(path)
  let tar: Buffer
  try {
    tar = await gunzipAsync(bytes)
  } catch (error) {
    throw new VerificationError(`${path} is not a readable .tar.gz: ${(error as Error).message}`, {hint: 'the archive is damaged; pick another backup'})
  }
  return parseTar(tar)
}

/**
 * Checks everything about an archive before anything is written: member types (files and
 * directories only: a link or device refuses the whole archive), member paths (no absolute path,
 * no `..`), no tokens/ or identity/, a valid manifest, and every file's size and SHA-256 equal to
 * the manifest's, with no member missing or extra.
 */
export function checkArchive(entries: readonly TarEntry[]): CheckedArchive {
  const problems: string[] = []
  const seen = new Set<string>()
  for (const entry of entries) {
    const pathProblem = memberPathProblem(entry.name)
    if (pathProblem) problems.push(`${JSON.stringify(entry.name)}: ${pathProblem}`)
    if (entry.type !== 'file' && entry.type !== 'dir') problems.push(`${JSON.stringify(entry.name)}: not a regular file or directory (${entry.type})`)
    if (FORBIDDEN_TOP.has(entry.name.split('/')[0] ?? '')) problems.push(`${JSON.stringify(entry.name)}: archives never hold tokens/ or identity/`)
    if (seen.has(entry.name)) problems.push(`${JSON.stringify(entry.name)}: appears twice`)
    seen.add(entry.name)
  }
  if (problems.length) throw refuse('the archive has unsafe members', problems)

  const manifestEntry = entries.find((e) => e.name === MANIFEST_NAME && e.type === 'file')
  if (!manifestEntry) throw refuse('the archive has no manifest.json', ['manifest.json: missing'])
  let manifest: BackupManifest
  try {
    manifest = BackupManifest.parse(JSON.parse(manifestEntry.data.toString('utf8')))
  } catch (error) {
    throw refuse('manifest.json is not an osmoda backup manifest', [(error as Error).message.slice(0, 500)])
  }

  const files = new Map(entries.filter((e) => e.type === 'file' && e.name !== MANIFEST_NAME).map((e) => [e.name, e]))
  const listed = new Set<string>()
  for (const file of manifest.files) {
    listed.add(file.path)
    const entry = files.get(file.path)
    if (!entry) {
      problems.push(`${file.path}: listed in the manifest but missing`)
      continue
    }
    if (entry.data.length !== file.size_bytes) problems.push(`${file.path}: ${entry.data.length} bytes, manifest says ${file.size_bytes}`)
    else if (createHash('sha256').update(entry.data).digest('hex') !== file.sha256) problems.push(`${file.path}: SHA-256 differs from the manifest`)
  }
  for (const name of files.keys()) if (!listed.has(name)) problems.push(`${name}: not listed in the manifest`)
  if (!files.has('ledger.db')) problems.push('ledger.db: missing')
  if (problems.length) throw refuse('the archive does not match its manifest', problems)
  return {manifest, entries: [...entries]}
}

function refuse(message: string, problems: string[]): VerificationError {
  return new VerificationError(`${message}: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`, {
    details: {problems},
    hint: 'nothing was changed; pick another backup',
  })
}
