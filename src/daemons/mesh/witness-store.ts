import type {Db} from '../../lib/db/open.js'

/**
 * mesh.db tables of witnessing (append to MESH_MIGRATIONS): the newest head this node cosigned for
 * each origin, and the conflicts it refused (one row per distinct offer, so a log that keeps
 * offering the same bad head is ledgered once).
 */
export const WITNESS_MIGRATION = `
  CREATE TABLE IF NOT EXISTS witnessed_heads (
    origin TEXT PRIMARY KEY,
    peer_id TEXT NOT NULL,
    signer_pubkey TEXT NOT NULL,
    size INTEGER NOT NULL,
    root_hash TEXT NOT NULL,
    note TEXT NOT NULL,
    cosignature TEXT NOT NULL,
    ts TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS witness_conflicts (
    origin TEXT NOT NULL,
    offered_size INTEGER NOT NULL,
    offered_root_hash TEXT NOT NULL,
    peer_id TEXT NOT NULL,
    stored_size INTEGER NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (origin, offered_size, offered_root_hash)
  );`

/** A witnessed head as stored. */
export interface WitnessedHead {
  origin: string
  peer_id: string
  /** Hex Ed25519 key that signed the origin's notes (the first one seen for the origin). */
  signer_pubkey: string
  size: number
  /** base64 */
  root_hash: string
  note: string
  /** This node's cosignature, base64 (key id ‖ timestamp ‖ signature). */
  cosignature: string
  ts: string
}

/** SQL of witnessed heads and conflicts. */
export function createWitnessStore(db: Db) {
  const head = db.prepare<[string], WitnessedHead>('SELECT origin, peer_id, signer_pubkey, size, root_hash, note, cosignature, ts FROM witnessed_heads WHERE origin = ?')
  const put = db.prepare(`INSERT INTO witnessed_heads (origin, peer_id, signer_pubkey, size, root_hash, note, cosignature, ts) VALUES (@origin, @peer_id, @signer_pubkey, @size, @root_hash, @note, @cosignature, @ts)
    ON CONFLICT (origin) DO UPDATE SET peer_id = excluded.peer_id, size = excluded.size, root_hash = excluded.root_hash, note = excluded.note, cosignature = excluded.cosignature, ts = excluded.ts`)
  const conflict = db.prepare('INSERT INTO witness_conflicts (origin, offered_size, offered_root_hash, peer_id, stored_size, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING')
  const heads = db.prepare<[], WitnessedHead>('SELECT origin, peer_id, signer_pubkey, size, root_hash, note, cosignature, ts FROM witnessed_heads ORDER BY origin')
  const conflicts = db.prepare<[], {origin: string; offered_size: number; peer_id: string; stored_size: number; reason: string; at: string}>('SELECT origin, offered_size, peer_id, stored_size, reason, at FROM witness_conflicts ORDER BY at')
  return {
    head: (origin: string): WitnessedHead | null => head.get(origin) ?? null,
    heads: (): WitnessedHead[] => heads.all(),
    /** Replaces the head of an origin; only ever called with a larger, consistent size. */
    putHead: (h: WitnessedHead): void => void put.run(h),
    /** Records a refused offer; false when that exact offer was already recorded. */
    addConflict: (c: {origin: string; offered_size: number; offered_root_hash: string; peer_id: string; stored_size: number; reason: string; at: string}): boolean =>
      conflict.run(c.origin, c.offered_size, c.offered_root_hash, c.peer_id, c.stored_size, c.reason, c.at).changes > 0,
    conflicts: () => conflicts.all(),
  }
}

/** The witness store's type. */
export type WitnessStore = ReturnType<typeof createWitnessStore>
