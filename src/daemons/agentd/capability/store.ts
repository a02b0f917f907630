import type {Db} from '../../../lib/db/open.js'

/** One row of the `capabilities` table (hands-store.ts). */
export interface CapabilityRow {
  jti: string
  granted_to: string
  permissions: string
  issued_at: string
  expires_at: string
  expires_ms: number
  minted_by: string
  revoked_at: string | null
}

/** SQL over agentd.db's `capabilities` table. */
export interface CapabilityStore {
  insert(row: CapabilityRow): void
  get(jti: string): CapabilityRow | undefined
  /** Marks a token revoked; false when it was already revoked. */
  revoke(jti: string, at: string): boolean
  isRevoked(jti: string): boolean
  /** Revoked tokens whose expiry lies after `nowMs`. */
  revokedUnexpired(nowMs: number): {jti: string; expires_at: string}[]
  /** Deletes rows that expired before `beforeMs`; returns how many. */
  deleteExpired(beforeMs: number): number
}

/** Prepared statements for the capabilities table. */
export function createCapabilityStore(db: Db): CapabilityStore {
  const insert = db.prepare(
    'INSERT INTO capabilities (jti, granted_to, permissions, issued_at, expires_at, expires_ms, minted_by, revoked_at) VALUES (@jti, @granted_to, @permissions, @issued_at, @expires_at, @expires_ms, @minted_by, @revoked_at)',
  )
  const get = db.prepare('SELECT * FROM capabilities WHERE jti = ?')
  const revoke = db.prepare('UPDATE capabilities SET revoked_at = ? WHERE jti = ? AND revoked_at IS NULL')
  const isRevoked = db.prepare('SELECT 1 FROM capabilities WHERE jti = ? AND revoked_at IS NOT NULL').pluck()
  const revoked = db.prepare('SELECT jti, expires_at FROM capabilities WHERE revoked_at IS NOT NULL AND expires_ms > ? ORDER BY expires_ms')
  const deleteExpired = db.prepare('DELETE FROM capabilities WHERE expires_ms < ?')
  return {
    insert: (row) => void insert.run(row),
    get: (jti) => get.get(jti) as CapabilityRow | undefined,
    revoke: (jti, at) => revoke.run(at, jti).changes === 1,
    isRevoked: (jti) => isRevoked.get(jti) !== undefined,
    revokedUnexpired: (nowMs) => revoked.all(nowMs) as {jti: string; expires_at: string}[],
    deleteExpired: (beforeMs) => deleteExpired.run(beforeMs).changes,
  }
}
