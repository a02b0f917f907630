import {dirname, join} from 'node:path'
import {z} from 'zod'
import type {OsmodaPaths} from '../paths.js'
import {Hex64, IsoTime} from '../schema/primitives.js'

/** Format tag of `manifest.json`; a restore refuses any other. */
export const BACKUP_FORMAT = 'osmoda.backup.v1'

/** The member of every archive that describes the others. */
export const MANIFEST_NAME = 'manifest.json'

/** A backup id, `bak_<ULID>` (SPEC §1.9). */
export const BackupId = z.string().regex(/^bak_[0-7][0-9A-HJKMNP-TV-Z]{25}$/, 'expected bak_<ULID>')

/** `manifest.json`: every member's digest and size, the versions, and the archived ledger's head. */
export const BackupManifest = z.strictObject({
  format: z.literal(BACKUP_FORMAT),
  id: BackupId,
  created_at: IsoTime,
  osmoda_version: z.string(),
  note: z.string().nullable(),
  files: z.array(z.strictObject({path: z.string(), sha256: Hex64, size_bytes: z.number().int().min(0)})),
  ledger: z.strictObject({size: z.number().int().min(0), head_hash: Hex64.nullable(), latest_checkpoint_size: z.number().int().nullable()}),
})

/** A parsed manifest. */
export type BackupManifest = z.output<typeof BackupManifest>

/**
 * Where backups go when `backup.dir` is not set: `/var/backups/osmoda` for the production state dir
 * (SPEC §1.1); for any other state dir (dev mode, OSMODA_STATE_DIR) `osmoda-backups` beside it —
 * outside it, so a restore never moves the archives aside and a wiped state dir keeps them, and a
 * second stack never prunes the first one's backups.
 */
export function defaultBackupDir(paths: OsmodaPaths): string {
  return paths.stateDir === PRODUCTION_STATE_DIR ? '/var/backups/osmoda' : join(dirname(paths.stateDir), 'osmoda-backups')
}

const PRODUCTION_STATE_DIR = '/var/lib/osmoda'

/** `<dir>/<id>.tar.gz`. */
export function backupArchivePath(dir: string, id: string): string {
  return join(dir, `${id}.tar.gz`)
}

/** The sidecar `<dir>/<id>.json` that GET /backup/list reads instead of opening every archive. */
export function backupInfoPath(dir: string, id: string): string {
  return join(dir, `${id}.json`)
}

/** Where `osmoda backup restore` leaves the marker that agentd ledgers as `backup.restored` on its next start. */
export function restoreMarkerPath(paths: OsmodaPaths): string {
  return join(paths.stateDir, 'backup-restored.json')
}
