import type {Db} from '../../lib/db/open.js'
import type {Logger} from '../../lib/log.js'

const RING_ROWS = 10_000

/** Levels of the diagnostics log. */
export type DiagLevel = 'debug' | 'info' | 'warn' | 'error'

/** One diagnostics row (SPEC §2.10 "Diagnostics"). */
export interface DiagEntry {
  ts: string
  level: DiagLevel
  kind: string
  agent_id: string | null
  request_id: string | null
  message: string
  data: Record<string, unknown> | null
}

/** The spawn-log equivalent: a 10 000-row ring in gateway.db, mirrored to the daemon log. */
export interface Diagnostics {
  record(entry: {level: DiagLevel; kind: string; message: string; agent_id?: string | null; request_id?: string | null; data?: Record<string, unknown>}): void
  list(filter: {sinceMs?: number; levels?: DiagLevel[]; limit: number}): DiagEntry[]
}

/** Builds the diagnostics ring over gateway.db. */
export function createDiagnostics(db: Db, log: Logger, clock: () => number = Date.now): Diagnostics {
  const insert = db.prepare('INSERT INTO diagnostics (ts, ts_ms, level, kind, agent_id, request_id, message, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
  const trim = db.prepare('DELETE FROM diagnostics WHERE id <= ?')
  let writes = 0
  return {
    record(entry) {
      const now = clock()
      const info = insert.run(new Date(now).toISOString(), now, entry.level, entry.kind, entry.agent_id ?? null, entry.request_id ?? null, entry.message, entry.data ? JSON.stringify(entry.data) : null)
      if (++writes % 100 === 0) trim.run(Number(info.lastInsertRowid) - RING_ROWS)
      log[entry.level](entry.message, {kind: entry.kind, agent_id: entry.agent_id, request_id: entry.request_id, ...entry.data})
    },
    list(filter) {
      const levels = filter.levels?.length ? filter.levels : ['debug', 'info', 'warn', 'error']
      const rows = db
        .prepare(`SELECT ts, level, kind, agent_id, request_id, message, data FROM diagnostics WHERE ts_ms >= ? AND level IN (${levels.map(() => '?').join(',')}) ORDER BY id DESC LIMIT ?`)
        .all(filter.sinceMs ?? 0, ...levels, filter.limit) as (Omit<DiagEntry, 'data'> & {data: string | null})[]
      return rows.reverse().map((row) => ({...row, data: row.data ? (JSON.parse(row.data) as Record<string, unknown>) : null}))
    },
  }
}
