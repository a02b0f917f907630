import {migrate, openDatabase, type Db} from '../../lib/db/open.js'
import type {Run} from './api.js'
import type {SecretBox} from './secret-box.js'

const MIGRATIONS = [
  `CREATE TABLE routine_state (
     routine_id TEXT PRIMARY KEY,
     last_run_at TEXT,
     last_status TEXT,
     run_count INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE runs (
     id TEXT PRIMARY KEY,
     routine_id TEXT NOT NULL,
     trigger TEXT NOT NULL,
     started_at TEXT NOT NULL,
     ended_at TEXT,
     status TEXT NOT NULL,
     output TEXT NOT NULL DEFAULT '',
     error TEXT,
     event_seq INTEGER
   );
   CREATE INDEX runs_by_routine ON runs (routine_id, id);
   CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE secrets (routine_id TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (routine_id, kind));`,
]

/** Persisted per-routine counters. */
export interface RoutineState {
  last_run_at: string | null
  last_status: Run['status'] | null
  run_count: number
}

/** Query of listRuns. */
export interface RunQuery {
  routineId?: string
  status?: string
  limit: number
  /** Exclusive upper bound on the run id (runs are ULID-ordered, newest first). */
  before?: string
}

/**
 * `routines/routines.db`: run history, last-run state, the ledger follow cursor, small per-routine
 * memories (network baseline, CPU streak, journal cursor) and secrets (sealed with the node key). Definitions live in
 * routines.json, which humans edit; everything the daemon learns lives here.
 */
export function openRoutinesStore(path: string, box: SecretBox) {
  const db: Db = openDatabase(path)
  migrate(db, MIGRATIONS)
  const stmt = {
    state: db.prepare('SELECT last_run_at, last_status, run_count FROM routine_state WHERE routine_id = ?'),
    startRun: db.prepare('INSERT INTO runs (id, routine_id, trigger, started_at, status, event_seq) VALUES (?, ?, ?, ?, ?, ?)'),
    bump: db.prepare(`INSERT INTO routine_state (routine_id, last_run_at, last_status, run_count) VALUES (?, ?, ?, 1)
      ON CONFLICT (routine_id) DO UPDATE SET last_run_at = excluded.last_run_at, last_status = excluded.last_status, run_count = run_count + 1`),
    finish: db.prepare('UPDATE runs SET ended_at = ?, status = ?, output = ?, error = ? WHERE id = ?'),
    setStatus: db.prepare('UPDATE routine_state SET last_status = ? WHERE routine_id = ?'),
    skipped: db.prepare('INSERT INTO runs (id, routine_id, trigger, started_at, ended_at, status, output, error, event_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
    trim: db.prepare('DELETE FROM runs WHERE routine_id = ? AND id NOT IN (SELECT id FROM runs WHERE routine_id = ? ORDER BY id DESC LIMIT ?)'),
    getRun: db.prepare('SELECT * FROM runs WHERE id = ?'),
    interrupted: db.prepare("UPDATE runs SET status = 'error', ended_at = ?, error = 'interrupted: routines stopped before the run finished' WHERE status = 'running'"),
    kvGet: db.prepare('SELECT value FROM kv WHERE key = ?'),
    kvSet: db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    secretGet: db.prepare('SELECT value FROM secrets WHERE routine_id = ? AND kind = ?'),
    secretSet: db.prepare('INSERT INTO secrets (routine_id, kind, value) VALUES (?, ?, ?) ON CONFLICT (routine_id, kind) DO UPDATE SET value = excluded.value'),
    secretDel: db.prepare('DELETE FROM secrets WHERE routine_id = ? AND kind = ?'),
    forget: db.prepare("DELETE FROM kv WHERE key LIKE ? ESCAPE '\\'"),
  }

  return {
    state(routineId: string): RoutineState {
      return (stmt.state.get(routineId) as RoutineState | undefined) ?? {last_run_at: null, last_status: null, run_count: 0}
    },
    /** Records a started run and bumps the routine's counters in one transaction. */
    startRun(run: {id: string; routineId: string; trigger: Run['trigger']; startedAt: string; eventSeq: number | null}): void {
      db.transaction(() => {
        stmt.startRun.run(run.id, run.routineId, run.trigger, run.startedAt, 'running', run.eventSeq)
        stmt.bump.run(run.routineId, run.startedAt, 'running')
      })()
    },
    finishRun(id: string, routineId: string, result: {endedAt: string; status: Run['status']; output: string; error: string | null}, keep: number): void {
      db.transaction(() => {
        stmt.finish.run(result.endedAt, result.status, result.output, result.error, id)
        stmt.setStatus.run(result.status, routineId)
        stmt.trim.run(routineId, routineId, keep)
      })()
    },
    /** A run that never started (overlap, concurrency limit): history only, counters untouched. */
    recordSkipped(run: {id: string; routineId: string; trigger: Run['trigger']; at: string; reason: string; eventSeq: number | null}, keep: number): void {
      db.transaction(() => {
        stmt.skipped.run(run.id, run.routineId, run.trigger, run.at, run.at, 'skipped', '', run.reason, run.eventSeq)
        stmt.trim.run(run.routineId, run.routineId, keep)
      })()
    },
    getRun(id: string): Run | null {
      return (stmt.getRun.get(id) as Run | undefined) ?? null
    },
    listRuns(query: RunQuery): Run[] {
      const where: string[] = []
      const args: unknown[] = []
      const add = (clause: string, value: unknown) => {
        where.push(clause)
        args.push(value)
      }
      if (query.routineId) add('routine_id = ?', query.routineId)
      if (query.status) add('status = ?', query.status)
      if (query.before) add('id < ?', query.before)
      const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`
      return db.prepare(sql).all(...args, query.limit) as Run[]
    },
    /** Marks runs left `running` by a crash or a stop as errors (called at start). */
    markInterrupted(at: string): number {
      return stmt.interrupted.run(at).changes
    },
    get(key: string): string | null {
      return (stmt.kvGet.get(key) as {value: string} | undefined)?.value ?? null
    },
    set(key: string, value: string): void {
      stmt.kvSet.run(key, value)
    },
    secret(routineId: string, kind: 'webhook_trigger' | 'webhook_headers'): string | null {
      const sealed = (stmt.secretGet.get(routineId, kind) as {value: string} | undefined)?.value
      return sealed === undefined ? null : box.open(sealed, `${routineId}/${kind}`)
    },
    setSecret(routineId: string, kind: 'webhook_trigger' | 'webhook_headers', value: string | null): void {
      if (value === null) stmt.secretDel.run(routineId, kind)
      else stmt.secretSet.run(routineId, kind, box.seal(value, `${routineId}/${kind}`))
    },
    /** Forgets what a removed routine learnt (its memories and secrets); its history stays. */
    forget(routineId: string): void {
      db.transaction(() => {
        stmt.forget.run(`routine:${routineId.replace(/[\\%_]/g, '\\$&')}:%`)
        stmt.secretDel.run(routineId, 'webhook_trigger')
        stmt.secretDel.run(routineId, 'webhook_headers')
      })()
    },
    close(): void {
      db.close()
    },
  }
}

/** routines.db. */
export type RoutinesStore = ReturnType<typeof openRoutinesStore>
