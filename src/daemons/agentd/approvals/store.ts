import type {Statement} from 'better-sqlite3'
import type {Db} from '../../../lib/db/open.js'

export const APPROVAL_STATUSES = ['pending', 'approved', 'denied', 'expired', 'consumed'] as const
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number]

/** An approvals row (table in hands-store.ts). */
export interface ApprovalRow {
  id: string
  operation: string
  daemon: string
  method: string
  path: string
  /** Canonical JSON of the operation's body, as hashed into `digest`. */
  body: string
  digest: string
  summary: string
  reason: string
  actor: string
  status: ApprovalStatus
  created_at: string
  expires_at: string
  expires_ms: number
  decided_at: string | null
  decided_ms: number | null
  decided_by: string | null
  note: string | null
  consumed_at: string | null
}

/** Prepared statements over the approvals table; the service owns every rule. */
export function createApprovalStore(db: Db) {
  const byId = db.prepare<[string], ApprovalRow>('SELECT * FROM approvals WHERE id = ?')
  const insert = db.prepare(
    `INSERT INTO approvals (id, operation, daemon, method, path, body, digest, summary, reason, actor, status, created_at, expires_at, expires_ms)
     VALUES (@id, @operation, @daemon, @method, @path, @body, @digest, @summary, @reason, @actor, 'pending', @created_at, @expires_at, @expires_ms)`,
  )
  const openFor = db.prepare<[string, string, number], ApprovalRow>(
    "SELECT * FROM approvals WHERE digest = ? AND actor = ? AND status = 'pending' AND expires_ms > ? ORDER BY id DESC LIMIT 1",
  )
  const pendingCount = db.prepare<[string, number], {n: number}>("SELECT count(*) AS n FROM approvals WHERE actor = ? AND status = 'pending' AND expires_ms > ?")
  const pendingAll = db.prepare<[number], ApprovalRow>("SELECT * FROM approvals WHERE status = 'pending' AND expires_ms > ? ORDER BY id DESC LIMIT 1000")
  const decide = db.prepare(
    "UPDATE approvals SET status = @status, decided_at = @decided_at, decided_ms = @decided_ms, decided_by = @decided_by, note = @note WHERE id = @id AND status = 'pending'",
  )
  const consume = db.prepare("UPDATE approvals SET status = 'consumed', consumed_at = ? WHERE id = ? AND status = 'approved'")
  const expire = db.prepare("UPDATE approvals SET status = 'expired' WHERE id = ? AND status IN ('pending', 'approved')")
  const dueToExpire = db.prepare<[number, number], ApprovalRow>(
    `SELECT * FROM approvals WHERE (status = 'pending' AND expires_ms <= ?) OR (status = 'approved' AND decided_ms <= ?) ORDER BY id LIMIT 1000`,
  )
  const listStatements = new Map<string, Statement<unknown[], ApprovalRow>>()
  const listStatement = (status: boolean, cursor: boolean) => {
    const key = `${status}:${cursor}`
    let statement = listStatements.get(key)
    if (!statement) {
      const where = [status ? 'status = @status' : '', cursor ? 'id < @cursor' : ''].filter(Boolean)
      statement = db.prepare<unknown[], ApprovalRow>(`SELECT * FROM approvals ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`)
      listStatements.set(key, statement)
    }
    return statement
  }

  return {
    get: (id: string): ApprovalRow | undefined => byId.get(id),
    insert: (row: Omit<ApprovalRow, 'status' | 'decided_at' | 'decided_ms' | 'decided_by' | 'note' | 'consumed_at'>): void => void insert.run(row),
    /** The newest unexpired pending approval for this digest and actor. */
    openFor: (digest: string, actor: string, nowMs: number): ApprovalRow | undefined => openFor.get(digest, actor, nowMs),
    pendingCount: (actor: string, nowMs: number): number => pendingCount.get(actor, nowMs)?.n ?? 0,
    pending: (nowMs: number): ApprovalRow[] => pendingAll.all(nowMs),
    /** Moves a pending approval to approved/denied; false when it was no longer pending. */
    decide: (change: {id: string; status: 'approved' | 'denied'; decided_at: string; decided_ms: number; decided_by: string; note: string | null}): boolean =>
      decide.run(change).changes === 1,
    /** Marks an approved approval consumed; false when it was not approved (a concurrent use won). */
    consume: (id: string, at: string): boolean => consume.run(at, id).changes === 1,
    expire: (id: string): boolean => expire.run(id).changes === 1,
    /** Rows whose pending lifetime or use window has passed (`approvedBeforeMs` = now − use window). */
    dueToExpire: (nowMs: number, approvedBeforeMs: number): ApprovalRow[] => dueToExpire.all(nowMs, approvedBeforeMs),
    list: (query: {status?: ApprovalStatus; cursor?: string; limit: number}): ApprovalRow[] =>
      listStatement(query.status !== undefined, query.cursor !== undefined).all({status: query.status, cursor: query.cursor, limit: query.limit}),
    transaction: <T>(fn: () => T): T => db.transaction(fn).immediate(),
  }
}

export type ApprovalStore = ReturnType<typeof createApprovalStore>
