import {join} from 'node:path'
import {migrate, openDatabase, type Db} from '../../lib/db/open.js'
import {ConflictError} from '../../lib/errors.js'
import type {OsmodaPaths} from '../../lib/paths.js'
import {ACTIVE_STATUSES, type SwitchSession, type SwitchStatus} from './api.js'
import {WATCHER_MIGRATION} from './watcher-store.js'
import {FLEET_MIGRATION} from './fleet-store.js'
import {pageJsonRows} from '../../lib/db/page.js'

// `active` is 1 while a session holds the SafeSwitch slot and NULL otherwise: the partial unique
// index makes "one session at a time" hold even if two processes opened the same database.
const SWITCH_MIGRATION = `
CREATE TABLE switch_sessions (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  active INTEGER CHECK (active IS NULL OR active = 1),
  started_at TEXT NOT NULL,
  session TEXT NOT NULL,
  private TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX switch_sessions_one_active ON switch_sessions(active) WHERE active = 1;
CREATE INDEX switch_sessions_status ON switch_sessions(status, id);
`

/**
 * watch's database, `<state>/watch/watch.db`. Each feature (switches, watchers, fleet) appends its
 * migration here; a migration runs once, in order, by `PRAGMA user_version`.
 */
export const WATCH_MIGRATIONS: readonly string[] = [SWITCH_MIGRATION, WATCHER_MIGRATION, FLEET_MIGRATION]

/** Opens (creating and migrating) watch's database. */
export function openWatchDb(paths: OsmodaPaths): Db {
  const db = openDatabase(join(paths.daemonStateDir('watch'), 'watch.db'))
  migrate(db, WATCH_MIGRATIONS)
  return db
}

/** What the daemon keeps about a session but never returns: originals of edited files. */
export interface SessionPrivate {
  originals?: {path: string; content: string | null; mode: number | null}[]
  /** The mutation (activation, apply/revert step) running right now, to stop after a restart. */
  mutation?: {unit: string; pid: number | null; start: string | null} | null
}

/** SQL for switch sessions; every write is one transaction (synchronous=FULL: fsynced at commit). */
export function createSwitchStore(db: Db) {
  const insert = db.prepare('INSERT INTO switch_sessions (id, status, active, started_at, session, private) VALUES (?, ?, ?, ?, ?, ?)')
  const update = db.prepare('UPDATE switch_sessions SET status = ?, active = ?, session = ? WHERE id = ?')
  const updatePrivate = db.prepare('UPDATE switch_sessions SET private = ? WHERE id = ?')
  const byId = db.prepare<[string], {session: string; private: string}>('SELECT session, private FROM switch_sessions WHERE id = ?')
  const activeRow = db.prepare<[], {session: string}>('SELECT session FROM switch_sessions WHERE active = 1')
  const isActive = (status: SwitchStatus) => (ACTIVE_STATUSES.includes(status) ? 1 : null)

  return {
    /** Inserts a new active session, or throws SWITCH_IN_PROGRESS when one already holds the slot. */
    insertIfIdle(session: SwitchSession, secret: SessionPrivate = {}): void {
      db.transaction(() => {
        const current = activeRow.get()
        if (current) {
          const other = JSON.parse(current.session) as SwitchSession
          throw new ConflictError(`switch ${other.id} is ${other.status}; one SafeSwitch session runs at a time`, {
            code: 'SWITCH_IN_PROGRESS',
            details: {switch_id: other.id, state: other.status},
            hint: `wait for it to end, or roll it back: osmoda switch rollback ${other.id}`,
          })
        }
        insert.run(session.id, session.status, isActive(session.status), session.started_at, JSON.stringify(session), JSON.stringify(secret))
      }).immediate()
    },
    /** Persists a session's new state. */
    save(session: SwitchSession): void {
      update.run(session.status, isActive(session.status), JSON.stringify(session), session.id)
    },
    savePrivate(id: string, secret: SessionPrivate): void {
      updatePrivate.run(JSON.stringify(secret), id)
    },
    get(id: string): SwitchSession | null {
      const row = byId.get(id)
      return row ? (JSON.parse(row.session) as SwitchSession) : null
    },
    getPrivate(id: string): SessionPrivate {
      const row = byId.get(id)
      return row ? (JSON.parse(row.private) as SessionPrivate) : {}
    },
    /** The session holding the slot, if any. */
    active(): SwitchSession | null {
      const row = activeRow.get()
      return row ? (JSON.parse(row.session) as SwitchSession) : null
    },
    /** Newest first; `cursor` is the last id of the previous page. */
    list(filter: {status?: SwitchStatus; limit: number; cursor?: string}): {switches: SwitchSession[]; next_cursor: string | null} {
      const page = pageJsonRows<SwitchSession>(db, {table: 'switch_sessions', column: 'session', filter: {status: filter.status}, cursor: filter.cursor, limit: filter.limit})
      return {switches: page.items, next_cursor: page.next_cursor}
    },
  }
}

/** The switch store. */
export type SwitchStore = ReturnType<typeof createSwitchStore>
