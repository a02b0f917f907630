import type {Db} from '../db/open.js'
import {ConflictError, NotFoundError, UsageError} from '../errors.js'

/** A signed tree head as stored: `root_hash` is base64, `note` the full C2SP signed note. */
export interface StoredCheckpoint {
  size: number
  root_hash: string
  ts: string
  note: string
}

/** A witness's cosignature of a checkpoint (C2SP tlog-cosignature), as stored. */
export interface StoredCosignature {
  witness: string
  key_id: string
  cosignature: string
  ts: string
}

/** Checkpoint and cosignature accessors of a ledger. */
export interface CheckpointStore {
  /** Stores a checkpoint; idempotent for the same size and root, ConflictError for another root. */
  saveCheckpoint(checkpoint: StoredCheckpoint): StoredCheckpoint
  /** The checkpoint with the largest size, or null. */
  latestCheckpoint(): StoredCheckpoint | null
  /** The checkpoint of exactly `size` events, or null. */
  getCheckpoint(size: number): StoredCheckpoint | null
  /** Checkpoints by size, newest first, strictly below `beforeSize` when given. */
  listCheckpoints(options: {limit: number; beforeSize?: number}): StoredCheckpoint[]
  /** Records a cosignature; idempotent for the same value, ConflictError for another one. */
  addCosignature(size: number, cosignature: StoredCosignature): StoredCosignature
  /** The cosignatures of the checkpoint of `size`, by witness name. */
  cosignatures(size: number): StoredCosignature[]
  /** How many witnesses cosigned the checkpoint of `size`. */
  cosignatureCount(size: number): number
}

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) throw new UsageError(`${name} must be an integer ≥ ${min}, got ${value}`, {details: [`${name}: integer ≥ ${min}`]})
}

/** Builds the checkpoint accessors over the ledger's `checkpoints` and `cosignatures` tables. */
export function createCheckpointStore(db: Db): CheckpointStore {
  const get = db.prepare<[number], StoredCheckpoint>('SELECT size, root_hash, ts, note FROM checkpoints WHERE size = ?')
  const latest = db.prepare<[], StoredCheckpoint>('SELECT size, root_hash, ts, note FROM checkpoints ORDER BY size DESC LIMIT 1')
  const list = db.prepare<[number, number], StoredCheckpoint>('SELECT size, root_hash, ts, note FROM checkpoints WHERE size < ? ORDER BY size DESC LIMIT ?')
  const insert = db.prepare<[number, string, string, string]>('INSERT INTO checkpoints (size, root_hash, ts, note) VALUES (?, ?, ?, ?)')
  const cosigs = db.prepare<[number], StoredCosignature>('SELECT witness, key_id, cosignature, ts FROM cosignatures WHERE size = ? ORDER BY witness')
  const cosig = db.prepare<[number, string], StoredCosignature>('SELECT witness, key_id, cosignature, ts FROM cosignatures WHERE size = ? AND witness = ?')
  const cosigCount = db.prepare<[number], number>('SELECT count(*) FROM cosignatures WHERE size = ?').pluck()
  const insertCosig = db.prepare<[number, string, string, string, string]>('INSERT INTO cosignatures (size, witness, key_id, cosignature, ts) VALUES (?, ?, ?, ?, ?)')

  // IMMEDIATE: the read-then-insert must not interleave with another process signing the same size.
  const save = db.transaction((cp: StoredCheckpoint): StoredCheckpoint => {
    const existing = get.get(cp.size)
    if (existing) {
      if (existing.root_hash === cp.root_hash) return existing
      throw new ConflictError(`a checkpoint of size ${cp.size} with another root is already stored`, {
        details: {state: 'conflicting_root', size: cp.size, stored_root_hash: existing.root_hash, root_hash: cp.root_hash},
        hint: 'two different trees of the same size mean the ledger was rewritten; run osmoda verify-ledger',
      })
    }
    insert.run(cp.size, cp.root_hash, cp.ts, cp.note)
    return {size: cp.size, root_hash: cp.root_hash, ts: cp.ts, note: cp.note}
  })

  const addCosig = db.transaction((size: number, c: StoredCosignature): StoredCosignature => {
    if (!get.get(size)) throw new NotFoundError(`no checkpoint of size ${size} to cosign`)
    const existing = cosig.get(size, c.witness)
    if (existing) {
      if (existing.cosignature === c.cosignature && existing.key_id === c.key_id) return existing
      throw new ConflictError(`witness ${c.witness} already cosigned size ${size} differently`, {details: {state: 'conflicting_cosignature', size, witness: c.witness}})
    }
    insertCosig.run(size, c.witness, c.key_id, c.cosignature, c.ts)
    return {witness: c.witness, key_id: c.key_id, cosignature: c.cosignature, ts: c.ts}
  })

  return {
    saveCheckpoint(cp) {
      checkCount('size', cp.size, 0)
      if (Buffer.from(cp.root_hash, 'base64').length !== 32 || !/^[A-Za-z0-9+/]{43}=$/.test(cp.root_hash)) {
        throw new UsageError('root_hash must be the base64 of 32 bytes', {details: ['root_hash: base64 of a SHA-256 hash']})
      }
      return save.immediate(cp)
    },
    latestCheckpoint: () => latest.get() ?? null,
    getCheckpoint: (size) => get.get(size) ?? null,
    listCheckpoints({limit, beforeSize}) {
      checkCount('limit', limit, 1)
      if (beforeSize !== undefined) checkCount('beforeSize', beforeSize, 0)
      return list.all(beforeSize ?? Number.MAX_SAFE_INTEGER, limit)
    },
    addCosignature(size, c) {
      checkCount('size', size, 0)
      return addCosig.immediate(size, c)
    },
    cosignatures: (size) => cosigs.all(size),
    cosignatureCount: (size) => cosigCount.get(size) ?? 0,
  }
}
