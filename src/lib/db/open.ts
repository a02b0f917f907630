import Database from 'better-sqlite3'
import {mkdirSync} from 'node:fs'
import {dirname} from 'node:path'

/** A better-sqlite3 connection. */
export type Db = Database.Database

/** Options for openDatabase. */
export interface OpenOptions {
  readonly?: boolean
  /** Milliseconds a writer waits for the lock before SQLITE_BUSY (default 5000). */
  busyTimeoutMs?: number
}

/**
 * Opens a SQLite database with osmoda's pragmas: WAL (readers never block the writer, so
 * verify-ledger can read while agentd appends), synchronous=FULL (an acknowledged write survives
 * power loss), foreign keys on, and a busy timeout so several processes can append.
 */
export function openDatabase(path: string, options: OpenOptions = {}): Db {
  if (!options.readonly) mkdirSync(dirname(path), {recursive: true, mode: 0o700})
  const db = new Database(path, {readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false})
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`)
  if (!options.readonly) db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('foreign_keys = ON')
  return db
}

/**
 * Applies migrations in order by `PRAGMA user_version`: migration i (0-based) brings the schema
 * to version i+1. Each migration runs in its own write transaction and re-reads the version inside
 * it, so when several processes open a fresh file at once each migration runs exactly once and
 * the version never goes backwards.
 */
export function migrate(db: Db, migrations: readonly string[]): void {
  const version = () => db.pragma('user_version', {simple: true}) as number
  while (version() < migrations.length) {
    db.transaction(() => {
      const current = version()
      const sql = migrations[current]
      if (sql === undefined) return
      db.exec(sql)
      db.pragma(`user_version = ${current + 1}`)
    }).immediate()
  }
}
