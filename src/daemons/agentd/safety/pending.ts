import type {Db} from '../../../lib/db/open.js'

/** How many approvals in agentd.db are pending and not yet expired at `nowMs`. */
export function countPendingApprovals(db: Db, nowMs: number): number {
  const row = db.prepare("SELECT count(*) AS n FROM approvals WHERE status = 'pending' AND expires_ms > ?").get(nowMs) as {n: number}
  return row.n
}
