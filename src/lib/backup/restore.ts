import {chmodSync, chownSync, cpSync, existsSync, lchownSync, lstatSync, readdirSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {createHash} from 'node:crypto'
import {connect} from 'node:net'
import {basename, dirname, join} from 'node:path'
import {NotFoundError, OsmodaError, VerificationError} from '../errors.js'
import {openDatabase} from '../db/open.js'
import {verifyChain} from '../ledger/verify.js'
import {DAEMON_NAMES, type OsmodaPaths} from '../paths.js'
import {fsyncDir, writeFileAtomic} from '../secure-file.js'
import {backupArchivePath, backupInfoPath, BackupId, defaultBackupDir, restoreMarkerPath} from './manifest.js'
import {checkArchive, readArchive, type CheckedArchive} from './restore-check.js'

/** What `osmoda backup restore` did. */
export interface RestoreResult {
  id: string
  archive: string
  state_dir: string
  /** Where the replaced state now lives, or null when there was none. */
  previous_state_dir: string | null
  files: number
  ledger_size: number
  ledger_head_hash: string | null
  carried_over: string[]
  warnings: string[]
}

/** The plan shown before the swap, for the confirmation prompt. */
export interface RestorePlan {
  id: string
  archive: string
  created_at: string
  files: number
  ledger_size: number
  state_dir: string
  previous_state_dir: string | null
}

/** Options of restoreBackup. */
export interface RestoreOptions {
  paths: OsmodaPaths
  archive: string
  /** Recorded in the marker (`restored_by`). */
  actor: string
  /** Asked once the archive has passed every check, before anything in the state dir changes. */
  confirm: (plan: RestorePlan) => Promise<boolean>
  now?: () => Date
}

/** The daemons answering on their sockets (a connect is enough: no token needed). */
export async function runningDaemons(paths: OsmodaPaths): Promise<string[]> {
  const probe = (name: string) =>
    new Promise<boolean>((resolve) => {
      const socket = connect(paths.socket(name))
      const done = (alive: boolean) => {
        socket.destroy()
        resolve(alive)
      }
      socket.setTimeout(1000, () => done(false))
      socket.once('connect', () => done(true))
      socket.once('error', () => done(false))
    })
  const alive = await Promise.all(DAEMON_NAMES.map(async (name): Promise<string | null> => ((await probe(name)) ? name : null)))
  return alive.filter((name): name is string => name !== null)
}

/** `backup.dir` as agentd resolves it: `<config>/agentd.json`, then OSMODA_AGENTD_BACKUP, then the default. */
export function configuredBackupDir(paths: OsmodaPaths, env: Record<string, string | undefined> = process.env): string {
  const fromJson = (text: string | undefined): unknown => {
    try {
      return text === undefined ? undefined : (JSON.parse(text) as unknown)
    } catch {
      return undefined
    }
  }
  let file: unknown
  try {
    file = fromJson(readFileSync(paths.configFile('agentd'), 'utf8'))
  } catch {
    file = undefined
  }
  const fromEnv = (fromJson(env.OSMODA_AGENTD_BACKUP) as {dir?: unknown} | undefined)?.dir
  const fromFile = (file as {backup?: {dir?: unknown}} | undefined)?.backup?.dir
  const dir = fromEnv ?? fromFile
  return typeof dir === 'string' && dir.startsWith('/') ? dir : defaultBackupDir(paths)
}

/**
 * An archive reference: a `bak_<ULID>` in the backup dir (its digest checked against the sidecar
 * agentd wrote) or a path to a `.tar.gz`.
 */
export function resolveArchive(ref: string, backupDir: string): string {
  if (BackupId.safeParse(ref).success) {
    const path = backupArchivePath(backupDir, ref)
    if (!existsSync(path)) throw new NotFoundError(`no backup ${ref} in ${backupDir}`, {hint: 'osmoda backup list shows the backups; or pass the archive path'})
    const info = backupInfoPath(backupDir, ref)
    if (existsSync(info)) {
      const expected = (JSON.parse(readFileSync(info, 'utf8')) as {sha256?: string}).sha256
      const actual = createHash('sha256').update(readFileSync(path)).digest('hex')
      if (expected !== actual) throw new VerificationError(`${path} does not match the SHA-256 recorded when it was made`, {hint: 'the archive was altered or damaged; pick another backup'})
    }
    return path
  }
  if (!existsSync(ref)) throw new NotFoundError(`no archive at ${ref}`, {hint: 'pass a bak_<ULID> id from `osmoda backup list` or a path to a .tar.gz'})
  return ref
}

function extract(checked: CheckedArchive, staging: string): void {
  // Run as root (production), files go back to the daemon users that owned them; otherwise to the caller.
  const asRoot = process.getuid?.() === 0
  for (const entry of checked.entries) {
    const target = join(staging, entry.name)
    if (entry.type === 'dir') {
      mkdirSync(target, {recursive: true, mode: 0o700})
      chmodSync(target, entry.mode & 0o777 || 0o700)
    } else {
      mkdirSync(dirname(target), {recursive: true, mode: 0o700})
      writeFileSync(target, entry.data, {flag: 'wx', mode: entry.mode & 0o777 || 0o600})
    }
    if (asRoot) lchownSync(target, entry.uid, entry.gid)
  }
}

/** The archived ledger must verify row by row and end at the head the manifest names. */
function checkStagedLedger(staging: string, checked: CheckedArchive): void {
  const db = openDatabase(join(staging, 'ledger.db'), {readonly: true})
  try {
    const report = verifyChain(db)
    const want = checked.manifest.ledger
    if (!report.ok) throw new VerificationError(`the archived ledger fails verification: ${report.bad_count} bad row(s), first at seq ${report.first_bad_seq}`, {details: {breaks: report.breaks.slice(0, 20)}, hint: 'nothing was changed; pick another backup'})
    if (report.size !== want.size || report.head_hash !== want.head_hash) {
      throw new VerificationError(`the archived ledger ends at ${report.size} ${report.head_hash ?? '-'}, the manifest says ${want.size} ${want.head_hash ?? '-'}`, {hint: 'nothing was changed; pick another backup'})
    }
  } finally {
    db.close()
  }
}

/**
 * Copies tokens/ or identity/ with modes, times and, as root, owners: `tokens/agent` is 0640
 * root:osmoda-agent in production and the agent runtime must still read it after the restore.
 */
function copyTreeKeepingOwners(from: string, to: string): void {
  const asRoot = process.getuid?.() === 0
  cpSync(from, to, {recursive: true, preserveTimestamps: true, verbatimSymlinks: true})
  const fix = (src: string, dst: string) => {
    const stat = lstatSync(src)
    if (!stat.isSymbolicLink()) chmodSync(dst, stat.mode & 0o7777)
    if (asRoot) lchownSync(dst, stat.uid, stat.gid)
    if (stat.isDirectory()) for (const name of readdirSync(src)) fix(join(src, name), join(dst, name))
  }
  fix(from, to)
}

const compactTs = (date: Date) => date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')

/**
 * Restores a backup offline: checks the archive (members, paths, manifest digests) and, once
 * extracted to a staging dir beside the state dir, the archived ledger's chain; only then, after
 * `confirm`, moves the current state aside to `<state>.pre-restore-<ts>`, carries its tokens/ and
 * identity/ into the staged tree, leaves the marker agentd ledgers as `backup.restored`, and
 * renames the staged tree into place. The caller makes sure no daemon runs.
 */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const {paths} = options
  const now = options.now?.() ?? new Date()
  const checked = checkArchive(await readArchive(options.archive))
  const {manifest} = checked
  const stateDir = paths.stateDir
  const parent = dirname(stateDir)
  mkdirSync(parent, {recursive: true})
  const current = existsSync(stateDir) ? lstatSync(stateDir) : null
  if (current && !current.isDirectory()) throw new OsmodaError('CONFLICT', `${stateDir} is not a directory`)
  const previous = current ? `${stateDir}.pre-restore-${compactTs(now)}` : null
  if (previous && existsSync(previous)) throw new OsmodaError('ALREADY_EXISTS', `${previous} already exists`, {hint: 'retry in a second'})

  const staging = mkdtempSync(join(parent, `.${basename(stateDir)}.restore-`))
  let swapped = false
  try {
    chmodSync(staging, current ? current.mode & 0o777 : 0o700)
    if (current && process.getuid?.() === 0) chownSync(staging, current.uid, current.gid)
    extract(checked, staging)
    checkStagedLedger(staging, checked)
    const plan: RestorePlan = {id: manifest.id, archive: options.archive, created_at: manifest.created_at, files: manifest.files.length, ledger_size: manifest.ledger.size, state_dir: stateDir, previous_state_dir: previous}
    if (!(await options.confirm(plan))) throw new OsmodaError('ABORTED', 'restore cancelled; nothing was changed', {exitCode: 1})

    const carried: string[] = []
    const warnings: string[] = []
    for (const dir of ['tokens', 'identity']) {
      const from = join(stateDir, dir)
      if (existsSync(from)) {
        copyTreeKeepingOwners(from, join(staging, dir))
        carried.push(dir)
      } else {
        warnings.push(`the current state has no ${dir}/ to carry over: run \`osmoda init\` before starting the daemons${dir === 'identity' ? ' (a new node identity signs checkpoints with a new key and origin)' : ''}`)
      }
    }
    const marker = {id: manifest.id, archive: options.archive, created_at: manifest.created_at, restored_at: now.toISOString(), restored_by: options.actor, ledger_size: manifest.ledger.size, ledger_head_hash: manifest.ledger.head_hash, previous_state_dir: previous}
    writeFileAtomic(join(staging, basename(restoreMarkerPath(paths))), `${JSON.stringify(marker)}\n`, 0o600)

    if (previous) renameSync(stateDir, previous)
    try {
      renameSync(staging, stateDir)
    } catch (error) {
      if (previous) renameSync(previous, stateDir)
      throw error
    }
    swapped = true
    fsyncDir(parent)
    return {id: manifest.id, archive: options.archive, state_dir: stateDir, previous_state_dir: previous, files: manifest.files.length, ledger_size: manifest.ledger.size, ledger_head_hash: manifest.ledger.head_hash, carried_over: carried, warnings}
  } finally {
    if (!swapped) rmSync(staging, {recursive: true, force: true})
  }
}

/** `--stop-services`: stops `osmoda.target` through systemd and waits for it. */
export async function stopOsmodaServices(): Promise<void> {
  if (!existsSync('/run/systemd/system')) {
    throw new OsmodaError('SYSTEMD_UNAVAILABLE', 'systemd is not running here, so --stop-services cannot stop the daemons', {hint: 'stop `osmoda up` (Ctrl-C) or the daemons yourself, then retry without --stop-services'})
  }
  const {runProcess} = await import('../exec/run.js')
  const result = await runProcess(['systemctl', 'stop', 'osmoda.target'], {timeoutMs: 120_000})
  if (result.exitCode !== 0) throw new OsmodaError('UPSTREAM_FAILED', `systemctl stop osmoda.target failed: ${result.stderr.trim() || `exit ${result.exitCode}`}`, {hint: 'systemctl status osmoda.target'})
}
