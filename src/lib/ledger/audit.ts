import {createPublicKey, type KeyObject} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {openDatabase, type Db} from '../db/open.js'
import {OsmodaError, UsageError} from '../errors.js'
import {parseCheckpointNote, verifyCheckpointNote} from './checkpoint.js'
import {verifyAgainstCheckpoint, type ChainReport} from './verify.js'
import {verifyChainParallel} from './verify-parallel.js'

/** One checkpoint file checked by an audit. */
export interface CheckpointCheck {
  file: string
  size: number | null
  ok: boolean
  reason: string | null
}

/** The result of `osmoda verify-ledger`. */
export interface AuditReport extends Omit<ChainReport, 'ok'> {
  ok: boolean
  chain_ok: boolean
  db: string
  checkpoints: CheckpointCheck[]
  duration_ms: number
}

/** Inputs of auditLedger. */
export interface AuditOptions {
  db: string
  checkpointFiles?: string[]
  /** Ed25519 public key (PEM) that signed the checkpoints. */
  publicKey?: KeyObject
  /** Expected signer key name (the node's ledger origin); default: the note's own origin. */
  keyName?: string
  from?: number
  to?: number
}

/**
 * Verifies a ledger file offline: the whole chain row by row (every break is reported), then each
 * checkpoint's signature and its Merkle root against the rows, which is what exposes a deleted
 * tail or a re-chained table. Opens the database read-only, so agentd may be running or not.
 */
export async function auditLedger(options: AuditOptions): Promise<AuditReport> {
  const started = performance.now()
  if (!existsSync(options.db)) throw new UsageError(`no ledger at ${options.db}`, {code: 'NOT_FOUND', hint: 'pass --db or run `osmoda init`'})
  const files = options.checkpointFiles ?? []
  if (files.length && !options.publicKey) throw new UsageError('checking a checkpoint needs the node public key', {hint: 'pass --pubkey FILE (identity/ed25519.pub)'})
  const db = openDatabase(options.db, {readonly: true})
  try {
    const chain = await verifyChainParallel(db, options.db, {from: options.from, to: options.to})
    const checkpoints = files.map((file) => checkCheckpoint(db, file, options.publicKey as KeyObject, options.keyName))
    const ok = chain.ok && checkpoints.every((c) => c.ok)
    return {...chain, ok, chain_ok: chain.ok, db: options.db, checkpoints, duration_ms: Math.round(performance.now() - started)}
  } finally {
    db.close()
  }
}

function checkCheckpoint(db: Db, file: string, publicKey: KeyObject, keyName?: string): CheckpointCheck {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    return {file, size: null, ok: false, reason: `unreadable: ${(error as Error).message}`}
  }
  let size: number | null = null
  try {
    const parsed = parseCheckpointNote(text)
    size = parsed.size
    verifyCheckpointNote(text, publicKey, keyName ?? parsed.origin)
    const match = verifyAgainstCheckpoint(db, {size: parsed.size, root_hash: parsed.rootHash.toString('base64')})
    return {file, size, ok: match.ok, reason: match.ok ? null : (match.reason ?? 'root_mismatch')}
  } catch (error) {
    return {file, size, ok: false, reason: error instanceof OsmodaError ? error.message : String(error)}
  }
}

/** Loads an Ed25519 public key from a PEM file. */
export function readPublicKey(file: string): KeyObject {
  try {
    return createPublicKey(readFileSync(file))
  } catch (error) {
    throw new UsageError(`cannot read public key ${file}: ${(error as Error).message}`)
  }
}
