import {createHash} from 'node:crypto'
import {closeSync, createWriteStream, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {Readable, Transform} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {createGzip} from 'node:zlib'
import type {z} from 'zod'
import {BACKUP_FORMAT, backupArchivePath, backupInfoPath, BackupId, MANIFEST_NAME, type BackupManifest} from '../../lib/backup/manifest.js'
import {TAR_END, tarHeader, tarPadding} from '../../lib/backup/tar.js'
import {ConflictError, OsmodaError} from '../../lib/errors.js'
import {createIdGenerator} from '../../lib/ids.js'
import {formatTs} from '../../lib/ledger/format.js'
import {openLedger, type Ledger} from '../../lib/ledger/ledger.js'
import type {Logger} from '../../lib/log.js'
import {fsyncDir, writeFileAtomic} from '../../lib/secure-file.js'
import {BackupInfo, type BackupCreateOutput} from './api.js'
import {listDatabases, listStateFiles, snapshotDatabase, sourceOf, type BackupSource} from './backup-sources.js'

/** The `backup.*` config keys, with the directory resolved. */
export interface BackupSettings {
  dir: string
  retentionDays: number
  keepMin: number
  timeoutSecs: number
}

/** Dependencies of the backup service. */
export interface BackupDeps {
  stateDir: string
  ledger: Ledger
  log: Logger
  version: string
  /** Read at each call so `POST /reload` applies. */
  settings: () => BackupSettings
  now?: () => number
  newId?: (prefix: string) => string
  /** The deadline's signal (default AbortSignal.timeout); injectable so a test can run out of time at once. */
  deadline?: (ms: number) => AbortSignal
}

type Info = z.output<typeof BackupInfo>
const DAY_MS = 86_400_000

/** Counts and hashes the compressed bytes on their way to the file. */
function digestTap(): Transform & {result(): {sha256: string; size: number}} {
  const hash = createHash('sha256')
  let size = 0
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk)
      size += chunk.length
      done(null, chunk)
    },
  })
  return Object.assign(tap, {result: () => ({sha256: hash.digest('hex'), size})})
}

/** Backups: consistent snapshots into `<backup.dir>/bak_<ULID>.tar.gz`, their list and retention. */
export function createBackupService(deps: BackupDeps) {
  const now = deps.now ?? Date.now
  const newId = deps.newId ?? createIdGenerator({clock: now})
  let running = false

  const readInfos = (dir: string): Info[] => {
    if (!existsSync(dir)) return []
    const infos: Info[] = []
    for (const file of readdirSync(dir)) {
      const id = file.endsWith('.json') ? file.slice(0, -'.json'.length) : ''
      if (!BackupId.safeParse(id).success || !existsSync(backupArchivePath(dir, id))) continue
      try {
        const info = BackupInfo.parse(JSON.parse(readFileSync(join(dir, file), 'utf8')))
        infos.push({...info, id, path: backupArchivePath(dir, id)})
      } catch (error) {
        // A damaged sidecar hides its backup from the list rather than failing the whole list.
        deps.log.warn('unreadable backup info', {file, error: (error as Error).message})
      }
    }
    // ULIDs sort by time: newest first.
    return infos.sort((a, b) => (a.id < b.id ? 1 : -1))
  }

  const prune = (settings: BackupSettings, actor: string): string[] => {
    const cutoff = now() - settings.retentionDays * DAY_MS
    const pruned = readInfos(settings.dir)
      .slice(settings.keepMin)
      .filter((info) => Date.parse(info.created_at) < cutoff)
      .map((info) => {
        rmSync(backupArchivePath(settings.dir, info.id), {force: true})
        rmSync(backupInfoPath(settings.dir, info.id), {force: true})
        return info.id
      })
    if (pruned.length) deps.ledger.append({type: 'backup.pruned', actor, payload: {ids: pruned}})
    return pruned
  }

  async function* archiveChunks(sources: BackupSource[], manifest: BackupManifest, signal: AbortSignal): AsyncGenerator<Buffer> {
    for (const source of sources) {
      if (signal.aborted) throw new OsmodaError('UPSTREAM_TIMEOUT', 'backup aborted')
      if (source.type === 'dir') {
        yield tarHeader({name: source.name, type: 'dir', mode: source.mode, uid: source.uid, gid: source.gid, mtime: source.mtime})
        continue
      }
      // Hash exactly the bytes that go into the archive.
      const data = readFileSync(source.from)
      manifest.files.push({path: source.name, sha256: createHash('sha256').update(data).digest('hex'), size_bytes: data.length})
      yield tarHeader({name: source.name, type: 'file', mode: source.mode, uid: source.uid, gid: source.gid, mtime: source.mtime, data})
      yield data
      yield tarPadding(data.length)
    }
    const text = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`)
    yield tarHeader({name: MANIFEST_NAME, type: 'file', mode: 0o600, mtime: now(), data: text})
    yield text
    yield tarPadding(text.length)
    yield TAR_END
  }

  const build = async (id: string, note: string | null, settings: BackupSettings, deadline: AbortSignal, caller?: AbortSignal): Promise<{info: Info; manifest: BackupManifest}> => {
    const signal = caller ? AbortSignal.any([deadline, caller]) : deadline
    const {dir} = settings
    const staging = mkdtempSync(join(dir, `.${id}.staging-`))
    const temp = join(dir, `.${id}.tar.gz.tmp`)
    try {
      const sources: BackupSource[] = []
      for (const rel of listDatabases(deps.stateDir)) {
        const to = join(staging, rel)
        await snapshotDatabase(join(deps.stateDir, rel), to, signal)
        sources.push(sourceOf(rel, 'file', statSync(join(deps.stateDir, rel)), to))
      }
      sources.push(...listStateFiles(deps.stateDir))
      const ledgerFacts = {size: 0, head_hash: null as string | null, latest_checkpoint_size: null as number | null}
      if (existsSync(join(staging, 'ledger.db'))) {
        // The archived ledger's own head, not the live one: events keep arriving during a backup.
        const snapshot = openLedger(join(staging, 'ledger.db'), {readonly: true})
        try {
          const head = snapshot.head()
          Object.assign(ledgerFacts, {size: head?.seq ?? 0, head_hash: head?.hash ?? null, latest_checkpoint_size: snapshot.latestCheckpoint()?.size ?? null})
        } finally {
          snapshot.close()
        }
      }
      const createdAt = formatTs(now())
      const manifest: BackupManifest = {format: BACKUP_FORMAT, id, created_at: createdAt, osmoda_version: deps.version, note, files: [], ledger: ledgerFacts}
      const tap = digestTap()
      await pipeline(Readable.from(archiveChunks(sources, manifest, signal)), createGzip(), tap, createWriteStream(temp, {flags: 'wx', mode: 0o600}), {signal})
      const fd = openSync(temp, 'r')
      try {
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
      const {sha256, size} = tap.result()
      const path = backupArchivePath(dir, id)
      renameSync(temp, path)
      fsyncDir(dir)
      const info: Info = {id, path, size_bytes: size, sha256, created_at: createdAt, note}
      writeFileAtomic(backupInfoPath(dir, id), `${JSON.stringify(info)}\n`, 0o600)
      return {info, manifest}
    } catch (error) {
      rmSync(temp, {force: true})
      if (deadline.aborted) throw new OsmodaError('UPSTREAM_TIMEOUT', `the backup did not finish within backup.timeoutSecs (${settings.timeoutSecs} s)`, {hint: 'raise backup.timeoutSecs in agentd.json', cause: error})
      if (caller?.aborted) throw new OsmodaError('NOT_READY', 'the backup was stopped: the caller went away or agentd is stopping', {hint: 'run it again', cause: error})
      throw error
    } finally {
      rmSync(staging, {recursive: true, force: true})
    }
  }

  return {
    /** POST /backup/create: one backup at a time (409 while one runs), then retention. */
    async create(input: {note?: string}, actor: string, signal?: AbortSignal): Promise<z.input<typeof BackupCreateOutput>> {
      if (running) throw new ConflictError('a backup is already running', {details: {state: 'running'}, hint: 'wait for it to finish, then see backup_list'})
      running = true
      try {
        const settings = deps.settings()
        mkdirSync(settings.dir, {recursive: true, mode: 0o700})
        const deadline = (deps.deadline ?? AbortSignal.timeout)(settings.timeoutSecs * 1000)
        const id = newId('bak')
        const {info, manifest} = await build(id, input.note ?? null, settings, deadline, signal)
        deps.ledger.append({type: 'backup.created', actor, payload: {id, size_bytes: info.size_bytes, sha256: info.sha256}})
        deps.log.info('backup created', {id, size_bytes: info.size_bytes, files: manifest.files.length})
        prune(settings, actor)
        return {...info, manifest: {files: manifest.files.length, ledger_size: manifest.ledger.size, ledger_head_hash: manifest.ledger.head_hash}}
      } finally {
        running = false
      }
    },

    /** GET /backup/list: newest first. */
    list(limit: number): {backups: Info[]} {
      return {backups: readInfos(deps.settings().dir).slice(0, limit)}
    },
  }
}

/** The backup service's interface. */
export type BackupService = ReturnType<typeof createBackupService>
