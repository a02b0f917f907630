import Database from 'better-sqlite3'
import {lstatSync, mkdirSync, readdirSync, type Stats} from 'node:fs'
import {dirname, join} from 'node:path'
import {BugError, OsmodaError} from '../../lib/errors.js'

/** Plain state files a backup holds when they exist (SPEC §2.1 "Backups"). */
const STATE_FILES = [
  'routines/routines.json',
  'gateway/agents.json',
  'gateway/credentials.json.enc',
  'keyd/policy.json',
  'agentd/approval-rules.json',
  'agentd/agent-card.json',
  'egress/allowlist.json',
]

/** Trees a backup holds when they exist; `keyd/keys` holds wallet keys still encrypted under the KEK in `<config>/secrets`. */
const STATE_TREES = ['keyd/keys', 'memory']

/** Top-level state entries that are never backed up: secrets, caches, per-agent workspaces. */
const NEVER = /^(tokens|identity|logs|cache|tmp|workspace-.*|\..*)$/

/** One member to archive: its path inside the archive and where its bytes come from. */
export interface BackupSource {
  name: string
  type: 'file' | 'dir'
  mode: number
  uid: number
  gid: number
  mtime: number
  /** Absolute path to read (a snapshot in staging for databases). */
  from: string
}

const isNeverIncluded = (name: string) => NEVER.test(name.split('/')[0] ?? '')

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
}

/** The databases to snapshot: `ledger.db` and every `<state>/*\/*.db`, as paths relative to the state dir. */
export function listDatabases(stateDir: string): string[] {
  const found = lstatOrNull(join(stateDir, 'ledger.db'))?.isFile() ? ['ledger.db'] : []
  for (const entry of readdirSync(stateDir, {withFileTypes: true})) {
    if (!entry.isDirectory() || isNeverIncluded(entry.name)) continue
    for (const file of readdirSync(join(stateDir, entry.name), {withFileTypes: true})) {
      if (file.isFile() && file.name.endsWith('.db')) found.push(`${entry.name}/${file.name}`)
    }
  }
  return found.sort()
}

/**
 * Copies one database into `to` with SQLite's online backup API (a consistent snapshot while
 * daemons keep writing), then switches the copy to a rollback journal so it is one self-contained
 * file; the daemon that opens it after a restore turns WAL back on.
 */
export async function snapshotDatabase(from: string, to: string, signal: AbortSignal): Promise<void> {
  mkdirSync(dirname(to), {recursive: true, mode: 0o700})
  const source = new Database(from, {readonly: true, fileMustExist: true})
  try {
    await source.backup(to, {
      progress: () => {
        if (signal.aborted) throw new OsmodaError('UPSTREAM_TIMEOUT', 'backup aborted')
        return 4096
      },
    })
  } finally {
    source.close()
  }
  const copy = new Database(to)
  try {
    copy.pragma('journal_mode = DELETE')
  } finally {
    copy.close()
  }
}

/** A member from a file's stat: mode, owner and mtime as on disk. */
export function sourceOf(name: string, type: 'file' | 'dir', stat: Stats, from: string): BackupSource {
  return {name, type, mode: stat.mode & 0o777, uid: stat.uid, gid: stat.gid, mtime: stat.mtimeMs, from}
}

/** Walks a tree: directories and regular files only; links and devices are skipped, never followed. */
function walk(stateDir: string, rel: string, out: BackupSource[]): void {
  const path = join(stateDir, rel)
  const stat = lstatOrNull(path)
  if (!stat) return
  if (stat.isFile()) {
    out.push(sourceOf(rel, 'file', stat, path))
  } else if (stat.isDirectory()) {
    out.push(sourceOf(rel, 'dir', stat, path))
    for (const child of readdirSync(path).sort()) walk(stateDir, `${rel}/${child}`, out)
  }
}

/**
 * The plain state files SPEC lists that exist, as archive members (parent directories first):
 * the operator policies, memory, generated `skills/auto-*` and the rest of §2.1's list.
 */
export function listStateFiles(stateDir: string): BackupSource[] {
  const out: BackupSource[] = []
  for (const rel of STATE_FILES) {
    const stat = lstatOrNull(join(stateDir, rel))
    if (stat?.isFile()) out.push(sourceOf(rel, 'file', stat, join(stateDir, rel)))
  }
  for (const rel of STATE_TREES) walk(stateDir, rel, out)
  const skills = join(stateDir, 'skills')
  if (lstatOrNull(skills)?.isDirectory()) {
    // System skills are links into the package; only generated ones belong to this host.
    for (const name of readdirSync(skills).sort()) if (name.startsWith('auto-')) walk(stateDir, `skills/${name}`, out)
  }
  for (const source of out) {
    if (isNeverIncluded(source.name)) throw new BugError(`refusing to archive ${source.name}`)
  }
  return out
}
