import type {z} from 'zod'
import type {Db} from '../../lib/db/open.js'
import type {ChatEntry, Receipt} from './api.js'

type ReceiptOut = z.output<typeof Receipt>
type EntryOut = z.output<typeof ChatEntry>
type Json<T> = T | null

interface ReceiptRow {
  request_id: string
  action: ReceiptOut['action']
  status: ReceiptOut['status']
  agent_id: string | null
  session_id: string | null
  channel: string | null
  created_at: string
  updated_at: string
  progress: string | null
  result: string | null
  failure: string | null
}

const parse = <T>(text: string | null): Json<T> => (text === null ? null : (JSON.parse(text) as T))
const toReceipt = (row: ReceiptRow): ReceiptOut => ({...row, progress: parse(row.progress), result: parse(row.result), failure: parse(row.failure)})

/** Request receipts and chat history in gateway.db. */
export interface RequestStore {
  create(receipt: Pick<ReceiptOut, 'request_id' | 'action' | 'agent_id' | 'session_id' | 'channel'>): ReceiptOut
  update(requestId: string, patch: Partial<Pick<ReceiptOut, 'status' | 'progress' | 'result' | 'failure'>>): ReceiptOut
  get(requestId: string): ReceiptOut | null
  list(filter: {action?: string; status?: string; agent_id?: string; limit: number; cursor?: string}): {requests: ReceiptOut[]; next_cursor: string | null}
  /** Receipts still open from a previous process (after a crash). */
  open(): ReceiptOut[]
  addEntry(entry: Omit<EntryOut, 'seq' | 'created_at'> & {message_id?: string | null}): number | null
  /** Replaces an entry's text (an agent message's final text). */
  setEntryText(seq: number, text: string): void
  /** Marks the newest unresolved tool entry of the request with the tool's outcome. */
  resolveTool(requestId: string, tool: string, ok: boolean): void
  /** The last `limit` entries after `since`. */
  history(sessionId: string, since: number, limit: number): EntryOut[]
  prune(nowMs: number): void
}

/** Builds the store over gateway.db. */
export function createRequestStore(db: Db, clock: () => number = Date.now): RequestStore {
  const now = () => new Date(clock()).toISOString()
  const insertReceipt = db.prepare(`INSERT INTO requests (request_id, action, status, agent_id, session_id, channel, created_at, updated_at) VALUES (?, ?, 'accepted', ?, ?, ?, ?, ?)`)
  const getReceipt = db.prepare('SELECT * FROM requests WHERE request_id = ?')
  const insertEntry = db.prepare('INSERT OR IGNORE INTO chat_entries (session_id, request_id, kind, text, tool, target, ok, message_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
  const get = (id: string) => {
    const row = getReceipt.get(id) as ReceiptRow | undefined
    return row ? toReceipt(row) : null
  }
  return {
    create(receipt) {
      const at = now()
      insertReceipt.run(receipt.request_id, receipt.action, receipt.agent_id, receipt.session_id, receipt.channel, at, at)
      return get(receipt.request_id) as ReceiptOut
    },
    update(requestId, patch) {
      const sets: string[] = ['updated_at = ?']
      const values: unknown[] = [now()]
      for (const key of ['status', 'progress', 'result', 'failure'] as const) {
        if (!(key in patch)) continue
        sets.push(`${key} = ?`)
        const value = patch[key]
        values.push(key === 'status' ? value : value === null || value === undefined ? null : JSON.stringify(value))
      }
      db.prepare(`UPDATE requests SET ${sets.join(', ')} WHERE request_id = ?`).run(...values, requestId)
      return get(requestId) as ReceiptOut
    },
    get,
    list(filter) {
      const where: string[] = []
      const values: unknown[] = []
      for (const key of ['action', 'status', 'agent_id'] as const) {
        if (filter[key] === undefined) continue
        where.push(`${key} = ?`)
        values.push(filter[key])
      }
      if (filter.cursor) {
        where.push('request_id < ?')
        values.push(filter.cursor)
      }
      const rows = db.prepare(`SELECT * FROM requests ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY request_id DESC LIMIT ?`).all(...values, filter.limit + 1) as ReceiptRow[]
      const more = rows.length > filter.limit
      const page = rows.slice(0, filter.limit).map(toReceipt)
      return {requests: page, next_cursor: more ? (page[page.length - 1]?.request_id ?? null) : null}
    },
    open: () => (db.prepare(`SELECT * FROM requests WHERE status IN ('accepted', 'in_progress')`).all() as ReceiptRow[]).map(toReceipt),
    addEntry(entry) {
      const info = insertEntry.run(entry.session_id, entry.request_id, entry.kind, entry.text, entry.tool, entry.target, entry.ok === null ? null : entry.ok ? 1 : 0, entry.message_id ?? null, now())
      return info.changes ? Number(info.lastInsertRowid) : null
    },
    setEntryText(seq, text) {
      db.prepare('UPDATE chat_entries SET text = ? WHERE seq = ?').run(text, seq)
    },
    resolveTool(requestId, tool, ok) {
      db.prepare(`UPDATE chat_entries SET ok = ? WHERE seq = (SELECT seq FROM chat_entries WHERE request_id = ? AND kind = 'tool' AND tool = ? AND ok IS NULL ORDER BY seq DESC LIMIT 1)`).run(ok ? 1 : 0, requestId, tool)
    },
    history(sessionId, since, limit) {
      const rows = db
        .prepare('SELECT seq, session_id, request_id, kind, text, tool, target, ok, created_at FROM chat_entries WHERE session_id = ? AND seq > ? ORDER BY seq DESC LIMIT ?')
        .all(sessionId, since, limit) as (Omit<EntryOut, 'ok'> & {ok: number | null})[]
      return rows.reverse().map((row) => ({...row, ok: row.ok === null ? null : row.ok === 1}))
    },
    prune(nowMs) {
      db.prepare('DELETE FROM requests WHERE updated_at < ?').run(new Date(nowMs - 30 * 86_400_000).toISOString())
      db.prepare('DELETE FROM chat_entries WHERE created_at < ?').run(new Date(nowMs - 90 * 86_400_000).toISOString())
    },
  }
}
