import type {Db} from '../../lib/db/open.js'

/** Event categories of the unified stream (SPEC §2.10). */
export const EVENT_CATEGORIES = ['request', 'state', 'agent', 'heartbeat', 'ledger', 'notification'] as const

/** One stream category. */
export type EventCategory = (typeof EVENT_CATEGORIES)[number]

/** One event of the unified stream, as SSE `data`. */
export interface StreamEvent {
  seq: number
  ts: string
  category: EventCategory
  type: string
  agent_id: string | null
  request_id: string | null
  data: Record<string, unknown>
}

/** What a producer emits; seq and ts are assigned by the bus. */
export type NewEvent = Omit<StreamEvent, 'seq' | 'ts' | 'agent_id' | 'request_id'> & {agent_id?: string | null; request_id?: string | null}

/** A live subscriber: called synchronously for each new event in seq order. */
export type EventListener = (event: StreamEvent) => void

/** The unified event stream: persisted in gateway.db, fanned out to live subscribers. */
export interface EventBus {
  emit(event: NewEvent): StreamEvent
  /** Events with seq > after, oldest first, at most limit. */
  since(after: number, limit: number): StreamEvent[]
  /** The oldest retained seq (null when empty) and the newest seq (0 when empty). */
  bounds(): {oldest: number | null; newest: number}
  subscribe(listener: EventListener): () => void
  /** Deletes events past retention (days / rows); returns how many. */
  prune(retention: {days: number; rows: number}, nowMs?: number): number
}

interface Row {
  seq: number
  ts: string
  category: EventCategory
  type: string
  agent_id: string | null
  request_id: string | null
  data: string
}

const toEvent = (row: Row): StreamEvent => ({...row, data: JSON.parse(row.data) as Record<string, unknown>})

/** Builds the bus over gateway.db's `events` table. */
export function createEventBus(db: Db, clock: () => number = Date.now): EventBus {
  const insert = db.prepare('INSERT INTO events (ts, category, type, agent_id, request_id, data) VALUES (?, ?, ?, ?, ?, ?)')
  const select = db.prepare('SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?')
  const bounds = db.prepare('SELECT MIN(seq) AS oldest, MAX(seq) AS newest FROM events')
  const listeners = new Set<EventListener>()
  return {
    emit(event) {
      const ts = new Date(clock()).toISOString()
      const agentId = event.agent_id ?? null
      const requestId = event.request_id ?? null
      const info = insert.run(ts, event.category, event.type, agentId, requestId, JSON.stringify(event.data))
      const stored: StreamEvent = {seq: Number(info.lastInsertRowid), ts, category: event.category, type: event.type, agent_id: agentId, request_id: requestId, data: event.data}
      for (const listener of listeners) {
        try {
          listener(stored)
        } catch {
          // A broken subscriber must not stop the others or the producer.
        }
      }
      return stored
    },
    since: (after, limit) => (select.all(after, limit) as Row[]).map(toEvent),
    bounds() {
      const row = bounds.get() as {oldest: number | null; newest: number | null}
      return {oldest: row.oldest, newest: row.newest ?? 0}
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    prune(retention, nowMs = clock()) {
      const cutoff = new Date(nowMs - retention.days * 86_400_000).toISOString()
      const byAge = db.prepare('DELETE FROM events WHERE ts < ?').run(cutoff).changes
      const newest = (bounds.get() as {newest: number | null}).newest ?? 0
      const byRows = db.prepare('DELETE FROM events WHERE seq <= ?').run(newest - retention.rows).changes
      return byAge + byRows
    },
  }
}
