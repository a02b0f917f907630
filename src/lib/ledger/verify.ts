import type {Db} from '../db/open.js'
import {UsageError, VerificationError} from '../errors.js'
import {canonicalJson, isCanonicalJson} from './canonical-json.js'
import {createEventHasher, EVENT_TYPE_RE, GENESIS_PREV_HASH, HASH_HEX_RE, TS_RE} from './format.js'
import {createMerkleRange} from './merkle.js'
import {sha256} from './sha256.js'

/** Why a row failed verification. */
export type BreakReason = 'seq_gap' | 'prev_hash_mismatch' | 'hash_mismatch' | 'malformed'

/** One problem found at one row (a row can have several). */
export interface ChainBreak {
  seq: number
  reason: BreakReason
  detail: string
}

/** The result of verifyChain; `size` counts the rows examined, `head_*` is the last of them. */
export interface ChainReport {
  ok: boolean
  size: number
  head_seq: number | null
  head_hash: string | null
  first_bad_seq: number | null
  bad_count: number
  breaks: ChainBreak[]
}

/** Options of verifyChain: an inclusive seq range and a progress callback. */
export interface VerifyChainOptions {
  from?: number
  to?: number
  onProgress?: (seq: number) => void
}

/** The result of checking rows against a checkpoint kept elsewhere. */
export interface CheckpointMatch {
  ok: boolean
  reason?: 'truncated' | 'root_mismatch'
  detail?: string
}

/** breaks[] stops growing here; bad_count keeps counting. */
export const MAX_REPORTED_BREAKS = 1000

const PROGRESS_EVERY = 65_536
// Rows are read in pages: better-sqlite3's all() costs less per row than iterate().
const PAGE = 512
const MAX_ACTOR_LENGTH = 128

function requireEventsTable(db: Db): void {
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").get()) {
    throw new VerificationError('the database has no events table: not an osmoda ledger')
  }
}

function checkRange(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) throw new UsageError(`${name} must be a positive integer, got ${value}`, {details: [`${name}: integer ≥ 1`]})
}

// Checks ts, type, actor and payload; prev_hash and hash are checked in the loop, mostly for free.
function fieldsWellFormed(ts: unknown, type: unknown, actor: unknown, payload: unknown): boolean {
  return (
    typeof ts === 'string' && TS_RE.test(ts) &&
    typeof type === 'string' && EVENT_TYPE_RE.test(type) &&
    typeof actor === 'string' && actor.length > 0 && actor.length <= MAX_ACTOR_LENGTH &&
    typeof payload === 'string' && payload.charCodeAt(0) === 0x7b /* { */ && isCanonicalJson(payload)
  )
}

/** Says what is malformed about a row; only called for rows that failed the format checks. */
function malformations(ts: unknown, type: unknown, actor: unknown, payload: unknown, prevHash: unknown, hash: unknown): string {
  const problems: string[] = []
  if (typeof ts !== 'string' || !TS_RE.test(ts)) problems.push('ts is not YYYY-MM-DDTHH:MM:SS.mmmZ')
  if (typeof type !== 'string' || !EVENT_TYPE_RE.test(type)) problems.push('type does not match <domain>.<event>')
  if (typeof actor !== 'string' || actor.length === 0 || actor.length > MAX_ACTOR_LENGTH) problems.push('actor is empty or too long')
  if (typeof prevHash !== 'string' || !HASH_HEX_RE.test(prevHash)) problems.push('prev_hash is not 64 lowercase hex')
  if (typeof hash !== 'string' || !HASH_HEX_RE.test(hash)) problems.push('hash is not 64 lowercase hex')
  if (typeof payload !== 'string') problems.push('payload is not text')
  else if (payload.charCodeAt(0) !== 0x7b || !isCanonicalJson(payload)) problems.push(payloadProblem(payload) ?? 'payload is not canonical JSON (RFC 8785)')
  return problems.join('; ')
}

function payloadProblem(payload: string): string | null {
  let parsed: unknown
  try {
    parsed = JSON.parse(payload)
  } catch {
    return 'payload is not JSON'
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return 'payload is not a JSON object'
  try {
    return canonicalJson(parsed) === payload ? null : 'payload is not canonical JSON (RFC 8785)'
  } catch {
    return 'payload cannot be canonicalised'
  }
}

/** Where verification of a range starting at `from` picks up the chain. */
function startState(db: Db, from: number): {expectedSeq: number; prevHash: string | null; prevWellFormed: boolean} {
  if (from === 1) return {expectedSeq: 1, prevHash: GENESIS_PREV_HASH, prevWellFormed: true}
  // The first row links to the stored hash of the row before the range; if that row is missing,
  // expecting its seq makes the first row report the gap.
  const before = db.prepare<[number], unknown>('SELECT hash FROM events WHERE seq = ?').pluck().get(from - 1)
  const prevHash = typeof before === 'string' ? before : null
  return {expectedSeq: before === undefined ? from - 1 : from, prevHash, prevWellFormed: prevHash !== null && HASH_HEX_RE.test(prevHash)}
}

/**
 * Verifies the chain row by row, streaming: seqs contiguous from 1, every prev_hash equal to the
 * previous row's stored hash (genesis for seq 1), every hash recomputed, every field well-formed.
 * Every bad row is reported, not only the first, so an auditor sees the extent of the damage.
 */
export function verifyChain(db: Db, options: VerifyChainOptions = {}): ChainReport {
  checkRange('from', options.from)
  checkRange('to', options.to)
  requireEventsTable(db)
  const from = options.from ?? 1
  const to = options.to ?? Number.MAX_SAFE_INTEGER
  const hasher = createEventHasher()
  const report: ChainReport = {ok: true, size: 0, head_seq: null, head_hash: null, first_bad_seq: null, bad_count: 0, breaks: []}

  let {expectedSeq, prevHash, prevWellFormed} = startState(db, from)

  let rowBad = false
  const flag = (seq: number, reason: BreakReason, detail: string) => {
    rowBad = true
    if (report.breaks.length < MAX_REPORTED_BREAKS) report.breaks.push({seq, reason, detail})
  }

  const page = db.prepare<[number, number, number], unknown[]>('SELECT seq, ts, type, actor, payload, prev_hash, hash FROM events WHERE seq >= ? AND seq <= ? ORDER BY seq LIMIT ?').raw()
  for (let next = from; next <= to; ) {
    const rows = page.all(next, to, PAGE)
    for (const row of rows) {
      const seq = row[0] as number
      const ts = row[1], type = row[2], actor = row[3], payload = row[4], rowPrev = row[5], hash = row[6]
      rowBad = false
      const linked = prevHash !== null && rowPrev === prevHash
      // Equal to the previous row's well-formed hash means well-formed: the regex is skipped on
      // the common path, and likewise a hash equal to the recomputed one needs no format check.
      const prevOk = linked ? prevWellFormed : typeof rowPrev === 'string' && HASH_HEX_RE.test(rowPrev)
      let computed: string | null = null
      if (prevOk && typeof ts === 'string' && typeof type === 'string' && typeof actor === 'string' && typeof payload === 'string') {
        computed = hasher({prev_hash: rowPrev as string, seq, ts, type, actor, payload})
      }
      const hashOk = computed !== null && computed === hash
      const hashWellFormed = hashOk || (typeof hash === 'string' && HASH_HEX_RE.test(hash))
      if (seq !== expectedSeq) flag(seq, 'seq_gap', expectedSeq === seq - 1 ? `seq ${expectedSeq} is missing` : `seqs ${expectedSeq}..${seq - 1} are missing`)
      if (!prevOk || !hashWellFormed || !fieldsWellFormed(ts, type, actor, payload)) flag(seq, 'malformed', malformations(ts, type, actor, payload, rowPrev, hash))
      if (prevHash !== null && !linked) flag(seq, 'prev_hash_mismatch', `prev_hash ${String(rowPrev)} is not the previous row's hash ${prevHash}`)
      // A malformed prev_hash cannot be recomputed over; the row is already reported as malformed.
      if (computed !== null && !hashOk) flag(seq, 'hash_mismatch', `stored hash ${String(hash)}, computed ${computed}`)
      if (rowBad) {
        report.bad_count++
        report.first_bad_seq ??= seq
      }
      prevHash = typeof hash === 'string' ? hash : null
      prevWellFormed = hashWellFormed
      expectedSeq = seq + 1
      report.size++
      report.head_seq = seq
      if (report.size % PROGRESS_EVERY === 0) options.onProgress?.(seq)
    }
    if (rows.length < PAGE) break
    next = expectedSeq
  }
  report.head_hash = prevHash
  report.ok = report.bad_count === 0
  if (report.head_seq !== null) options.onProgress?.(report.head_seq)
  return report
}

/**
 * Recomputes the RFC 9162 root over the first `size` event hashes and compares it with a
 * checkpoint's root (base64, as stored, or raw bytes): fewer rows → 'truncated' (a deleted tail),
 * another root → 'root_mismatch' (rewritten or re-chained history).
 */
export function verifyAgainstCheckpoint(db: Db, checkpoint: {size: number; root_hash: string | Buffer}): CheckpointMatch {
  requireEventsTable(db)
  if (!Number.isSafeInteger(checkpoint.size) || checkpoint.size < 0) throw new UsageError(`checkpoint size must be an integer ≥ 0, got ${checkpoint.size}`)
  const expected = typeof checkpoint.root_hash === 'string' ? Buffer.from(checkpoint.root_hash, 'base64') : checkpoint.root_hash
  const range = createMerkleRange()
  // One 33-byte scratch (0x00 ‖ event hash) serves every leaf.
  const leafInput = Buffer.alloc(33)
  const hashes = db.prepare<[number], unknown>('SELECT hash FROM events ORDER BY seq LIMIT ?').pluck()
  for (const hex of hashes.iterate(checkpoint.size)) {
    leafInput.fill(0)
    if (typeof hex === 'string') leafInput.write(hex, 1, 'hex')
    range.push(sha256(leafInput))
  }
  if (range.size < checkpoint.size) {
    return {ok: false, reason: 'truncated', detail: `the checkpoint covers ${checkpoint.size} events but the ledger holds ${range.size}`}
  }
  const root = range.root()
  if (!root.equals(expected)) {
    return {ok: false, reason: 'root_mismatch', detail: `checkpoint root ${expected.toString('base64')}, recomputed ${root.toString('base64')}`}
  }
  return {ok: true}
}
