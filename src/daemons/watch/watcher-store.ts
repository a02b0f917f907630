import type {Db} from '../../lib/db/open.js'
import {ConflictError} from '../../lib/errors.js'
import type {Watcher, WatcherState} from './watcher-api.js'

/** Watchers and their recent check results (appended to WATCH_MIGRATIONS in store.ts). */
export const WATCHER_MIGRATION = `
CREATE TABLE watchers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL,
  watcher TEXT NOT NULL,
  private TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE watcher_results (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  watcher_id TEXT NOT NULL REFERENCES watchers(id) ON DELETE CASCADE,
  result TEXT NOT NULL
);
CREATE INDEX watcher_results_by_watcher ON watcher_results(watcher_id, seq);
`

/** Results kept per watcher (GET /watcher/{id} returns the last 20). */
const KEEP_RESULTS = 100

/** What the ladder remembers about a watcher but never returns (epoch ms). */
export interface WatcherPrivate {
  /** First failing check of the current episode. */
  failing_since?: number | null
  /** Last action of the current episode (back-off is measured from it). */
  last_action_at?: number | null
  /** Actions run in the current episode: k of backoff(k). */
  episode_actions?: number
  /** Runs of the current step (restart_service/command repeat up to restartAttempts). */
  step_attempts?: number
  /** rollback_generation already ran (or was skipped) in this episode. */
  rollback_done?: boolean
  /** First passing check while recovering. */
  passing_since?: number | null
  /** When the breaker opened. */
  breaker_opened_at?: number | null
  /** Times of actions, for the breaker window. */
  action_times?: number[]
}

/** A stored result row. */
export interface StoredResult {
  ok: boolean
  detail: string
  duration_ms: number
  at: string
  state: WatcherState
}

/** SQL for watchers; every write is one transaction (synchronous=FULL: fsynced at commit). */
export function createWatcherStore(db: Db) {
  const insert = db.prepare('INSERT INTO watchers (id, name, state, watcher, private) VALUES (?, ?, ?, ?, ?)')
  const byName = db.prepare<[string], {id: string}>('SELECT id FROM watchers WHERE name = ?')
  const byId = db.prepare<[string], {watcher: string; private: string}>('SELECT watcher, private FROM watchers WHERE id = ?')
  const update = db.prepare('UPDATE watchers SET state = ?, watcher = ?, private = ? WHERE id = ?')
  const remove = db.prepare('DELETE FROM watchers WHERE id = ?')
  const removeResults = db.prepare('DELETE FROM watcher_results WHERE watcher_id = ?')
  const addResult = db.prepare('INSERT INTO watcher_results (watcher_id, result) VALUES (?, ?)')
  const prune = db.prepare('DELETE FROM watcher_results WHERE watcher_id = ? AND seq <= (SELECT seq FROM watcher_results WHERE watcher_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)')
  const recent = db.prepare<[string, number], {result: string}>('SELECT result FROM watcher_results WHERE watcher_id = ? ORDER BY seq DESC LIMIT ?')
  const all = db.prepare<[], {watcher: string}>('SELECT watcher FROM watchers ORDER BY id')
  const allIn = db.prepare<[string], {watcher: string}>('SELECT watcher FROM watchers WHERE state = ? ORDER BY id')

  const taken = (name: string) => {
    const row = byName.get(name)
    if (row) throw new ConflictError(`a watcher named ${JSON.stringify(name)} exists (${row.id})`, {details: {watcher_id: row.id}, hint: 'choose another name, or remove the old watcher first'})
  }

  return {
    /** Throws 409 CONFLICT when a watcher has this name. */
    requireNameFree: taken,
    /** Inserts a watcher, or throws 409 CONFLICT when its name is taken. */
    insert(watcher: Watcher, secret: WatcherPrivate = {}): void {
      db.transaction(() => {
        taken(watcher.name)
        insert.run(watcher.id, watcher.name, watcher.state, JSON.stringify(watcher), JSON.stringify(secret))
      }).immediate()
    },
    get(id: string): {watcher: Watcher; secret: WatcherPrivate} | null {
      const row = byId.get(id)
      return row ? {watcher: JSON.parse(row.watcher) as Watcher, secret: JSON.parse(row.private) as WatcherPrivate} : null
    },
    /** Persists a watcher's new state, with the result that caused it (if any), in one transaction. */
    save(watcher: Watcher, secret: WatcherPrivate, result?: StoredResult): boolean {
      return db.transaction(() => {
        const changed = update.run(watcher.state, JSON.stringify(watcher), JSON.stringify(secret), watcher.id).changes > 0
        if (changed && result) {
          addResult.run(watcher.id, JSON.stringify(result))
          prune.run(watcher.id, watcher.id, KEEP_RESULTS)
        }
        return changed
      })()
    },
    remove(id: string): boolean {
      return db.transaction(() => {
        removeResults.run(id)
        return remove.run(id).changes > 0
      })()
    },
    results(id: string, limit: number): StoredResult[] {
      return recent.all(id, limit).map((r) => JSON.parse(r.result) as StoredResult)
    },
    list(state?: WatcherState): Watcher[] {
      return (state ? allIn.all(state) : all.all()).map((r) => JSON.parse(r.watcher) as Watcher)
    },
  }
}

/** The watcher store. */
export type WatcherStore = ReturnType<typeof createWatcherStore>
