import {openDatabase, type Db} from '../db/open.js'
import {OsmodaError} from '../errors.js'
import {parseCheckpointNote} from './checkpoint.js'
import {verifyCosignature, witnessInstanceId, witnessName} from './cosignature.js'
import {verifyAgainstCheckpoint} from './verify.js'

/** A head of this ledger that a peer says it witnessed (mesh GET /witness/heads). */
export interface ReportedHead {
  peer_id: string
  size: number
  /** base64 */
  root_hash: string
  cosignature: string
  ts: string
}

/** The verdict on one witnessed head or stored cosignature. */
export interface WitnessFinding {
  source: 'peer_head' | 'stored_cosignature'
  witness: string
  peer_id: string | null
  size: number
  /** failed = evidence the ledger was altered (or a forged cosignature); unverified = no pinned key to check with. */
  status: 'ok' | 'failed' | 'unverified'
  reason: 'truncated' | 'root_mismatch' | 'bad_cosignature' | 'unknown_witness' | null
  detail: string | null
}

/** The pinned Ed25519 key (raw 32 bytes) of a peer, as mesh pinned it; undefined for strangers. */
export type PinnedKeyLookup = (peerId: string) => Buffer | undefined

function check(db: Db, base: Omit<WitnessFinding, 'status' | 'reason' | 'detail'>, origin: string, root: string, cosignature: string, key: Buffer | undefined): WitnessFinding {
  if (!key) return {...base, status: 'unverified', reason: 'unknown_witness', detail: 'mesh has no pinned key for this witness'}
  try {
    verifyCosignature({origin, size: base.size, rootHash: root}, base.witness, key, cosignature)
  } catch (error) {
    return {...base, status: 'failed', reason: 'bad_cosignature', detail: error instanceof OsmodaError ? error.message : String(error)}
  }
  // A genuine cosignature of a head the rows no longer produce: the ledger was cut or rewritten.
  const match = verifyAgainstCheckpoint(db, {size: base.size, root_hash: root})
  return match.ok ? {...base, status: 'ok', reason: null, detail: null} : {...base, status: 'failed', reason: match.reason ?? 'root_mismatch', detail: match.detail ?? null}
}

/**
 * Checks the heads peers hold for this ledger: each cosignature with the key mesh pinned for that
 * peer (never a key carried beside it), then the head's root against the rows.
 */
export function checkReportedHeads(db: Db, origin: string, heads: readonly ReportedHead[], pinnedKey: PinnedKeyLookup): WitnessFinding[] {
  return heads.map((h) => check(db, {source: 'peer_head', witness: witnessName(h.peer_id), peer_id: h.peer_id, size: h.size}, origin, h.root_hash, h.cosignature, pinnedKey(h.peer_id)))
}

/** Checks every cosignature stored beside the ledger's own checkpoints, the same way. */
export function checkStoredCosignatures(db: Db, pinnedKey: PinnedKeyLookup): WitnessFinding[] {
  const rows = db
    .prepare<[], {size: number; root_hash: string; note: string; witness: string; cosignature: string}>(
      'SELECT c.size, c.root_hash, c.note, s.witness, s.cosignature FROM cosignatures s JOIN checkpoints c ON c.size = s.size ORDER BY c.size, s.witness',
    )
    .all()
  return rows.map((r) => {
    const peer = witnessInstanceId(r.witness)
    const origin = parseCheckpointNote(r.note).origin
    return check(db, {source: 'stored_cosignature', witness: r.witness, peer_id: peer, size: r.size}, origin, r.root_hash, r.cosignature, peer ? pinnedKey(peer) : undefined)
  })
}

/** Inputs of auditWitnesses. */
export interface WitnessAuditOptions {
  /** This ledger's origin (`ledger_origin` of identity.json). */
  origin: string
  heads: readonly ReportedHead[]
  pinnedKey: PinnedKeyLookup
}

/** Opens a ledger file read-only and checks the peers' heads and the stored cosignatures against it. */
export function auditWitnesses(dbPath: string, options: WitnessAuditOptions): WitnessFinding[] {
  const db = openDatabase(dbPath, {readonly: true})
  try {
    return [...checkStoredCosignatures(db, options.pinnedKey), ...checkReportedHeads(db, options.origin, options.heads, options.pinnedKey)]
  } finally {
    db.close()
  }
}
