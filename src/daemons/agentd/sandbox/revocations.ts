import type {Db} from '../../../lib/db/open.js'

/**
 * Whether a capability token id is revoked, read from agentd.db's `capabilities` table (written by
 * the capability routes). A token id the table does not know is not revoked: the signature, not
 * the table, says whether a token is genuine.
 */
export function createRevocationCheck(db: Db): (jti: string) => boolean {
  const query = db.prepare('SELECT 1 FROM capabilities WHERE jti = ? AND revoked_at IS NOT NULL').pluck()
  return (jti) => query.get(jti) !== undefined
}
