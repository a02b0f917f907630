import type {Statement} from 'better-sqlite3'
import {migrate, openDatabase, type Db} from '../db/open.js'
import {BugError, OsmodaError, UsageError, VerificationError} from '../errors.js'
import {canonicalJson} from './canonical-json.js'
import {createCheckpointStore, type CheckpointStore} from './checkpoint-store.js'
import {createEventHasher, EVENT_TYPE_RE, formatTs, GENESIS_PREV_HASH, HASH_HEX_RE} from './format.js'
import {redactPayload} from './redact.js'
import {LEDGER_MIGRATIONS} from './schema.js'

// Re-exported so that callers get every ledger type from this one module.
export type {StoredCheckpoint, StoredCosignature} from './checkpoint-store.js'

/** Largest canonical payload, in UTF-8 bytes (SPEC §1.11). */
export const MAX_PAYLOAD_BYTES = 64 * 1024

/** Longest actor, in UTF-16 code units. */
export const MAX_ACTOR_LENGTH = 128

/** One ledger row with its payload parsed. */
export interface LedgerEvent {
  seq: number
  ts: string
  type: string
  actor: string
  payload: Record<string, unknown>
  prev_hash: string
  hash: string
}

/** What a caller appends; the ledger assigns seq, ts and the hashes. */
export interface AppendInput {
  type: string
  actor: string
  payload: Record<string, unknown>
}

/** The newest row's position. */
export interface LedgerHead {
  seq: number
  hash: string
  ts: string
}

/** A ledger query: `type` is exact or a `domain.*` prefix; `before`/`after` are exclusive seq bounds. */
export interface LedgerQuery {
  type?: string
  actor?: string
  limit: number
  before?: number
  after?: number
  order: 'asc' | 'desc'
}

/** Options of openLedger. */
export interface OpenLedgerOptions {
  /** Open without writing anything (verification, backups). */
  readonly?: boolean
  /** Milliseconds since the epoch; injectable for tests. */
  clock?: () => number
}

/** The hash-chained, append-only event store shared by every daemon and the CLI. */
export interface Ledger extends CheckpointStore {
  /** The underlying connection, for callers that verify or run their own reads. */
  readonly db: Db
  /** Appends one event atomically (safe across processes) and returns it as stored. */
  append(input: AppendInput): LedgerEvent
  /** The newest row, or null for an empty ledger. */
  head(): LedgerHead | null
  /** The number of events (the newest seq). */
  size(): number
  /** Events matching the filters, in seq order. */
  query(query: LedgerQuery): LedgerEvent[]
  /** Raw 32-byte event hashes of seqs fromSeq..toSeq inclusive, in order (Merkle leaves' input). */
  eventHashes(fromSeq: number, toSeq: number): Buffer[]
  /** Closes the connection. */
  close(): void
}

const PREFIX_FILTER_RE = /^[a-z][a-z0-9_]*\.\*$/
const ROW_COLUMNS = 'seq, ts, type, actor, payload, prev_hash, hash'

type Row = Omit<LedgerEvent, 'payload'> & {payload: string}

const toEvent = (row: Row): LedgerEvent => ({...row, payload: JSON.parse(row.payload) as Record<string, unknown>})

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

function checkInteger(name: string, value: number | undefined, min: number): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < min)) {
    throw new UsageError(`${name} must be an integer ≥ ${min}, got ${value}`, {details: [`${name}: integer ≥ ${min}`]})
  }
}

/** Validates, redacts and canonicalises an append's input; returns the payload text to store. */
function preparePayload(input: AppendInput): string {
  if (typeof input.type !== 'string' || !EVENT_TYPE_RE.test(input.type)) {
    throw new UsageError(`invalid event type ${JSON.stringify(input.type)}`, {details: [`type: must match ${EVENT_TYPE_RE.source}`], hint: 'types are <domain>.<event> in snake case, e.g. tool.called'})
  }
  const actor = input.actor
  if (typeof actor !== 'string' || actor.length === 0 || actor.length > MAX_ACTOR_LENGTH || /\p{Cc}/u.test(actor)) {
    throw new UsageError('actor must be 1–128 printable characters', {details: [`actor: 1..${MAX_ACTOR_LENGTH} characters, no control characters`]})
  }
  // The actor is hashed as UTF-8 too: canonicalJson refuses a lone surrogate, which has no UTF-8 form.
  canonicalJson(actor)
  if (!isPlainObject(input.payload)) throw new UsageError('payload must be a plain JSON object', {details: ['payload: object']})
  const text = canonicalJson(redactPayload(input.payload))
  const bytes = Buffer.byteLength(text, 'utf8')
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw new OsmodaError('PAYLOAD_TOO_LARGE', `ledger payload is ${bytes} bytes, over the ${MAX_PAYLOAD_BYTES}-byte limit`, {
      details: {bytes, limit: MAX_PAYLOAD_BYTES},
      hint: 'record large content as *_sha256 and *_bytes instead of the content itself',
    })
  }
  return text
}

/**
 * Opens (creating if needed) the ledger at `path`. Appends run in one BEGIN IMMEDIATE transaction
 * that reads the head and inserts the complete row, so daemons in different processes can share
 * one file and a crash leaves either the whole row or nothing.
 */
export function openLedger(path: string, options: OpenLedgerOptions = {}): Ledger {
  const readonly = options.readonly ?? false
  const clock = options.clock ?? Date.now
  const db = openDatabase(path, {readonly})
  try {
    if (!readonly) migrate(db, LEDGER_MIGRATIONS)
    else if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").get()) {
      throw new VerificationError(`${path} has no events table: not an osmoda ledger`)
    }
    return buildLedger(db, readonly, clock)
  } catch (error) {
    db.close()
    throw error
  }
}

function buildLedger(db: Db, readonly: boolean, clock: () => number): Ledger {
  const hasher = createEventHasher()
  const headStmt = db.prepare<[], LedgerHead>('SELECT seq, hash, ts FROM events ORDER BY seq DESC LIMIT 1')
  const sizeStmt = db.prepare<[], number>('SELECT coalesce(max(seq), 0) FROM events').pluck()
  const insert = db.prepare<[number, string, string, string, string, string, string]>(`INSERT INTO events (${ROW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`)
  const hashesStmt = db.prepare<[number, number], string>('SELECT hash FROM events WHERE seq >= ? AND seq <= ? ORDER BY seq').pluck()
  const queries = new Map<string, Statement<unknown[], Row>>()

  const appendTx = db.transaction((type: string, actor: string, payload: string): Row => {
    const head = headStmt.get()
    const prevHash = head ? head.hash : GENESIS_PREV_HASH
    if (!HASH_HEX_RE.test(prevHash)) {
      throw new VerificationError(`the ledger head (seq ${head?.seq}) has a malformed hash; refusing to extend a broken chain`, {hint: 'run osmoda verify-ledger'})
    }
    const seq = head ? head.seq + 1 : 1
    // ts never goes backwards even if the clock does (NTP step, another host's clock): the
    // fixed-width format makes string order the same as time order.
    const now = formatTs(clock())
    const ts = head && head.ts > now ? head.ts : now
    const hash = hasher({prev_hash: prevHash, seq, ts, type, actor, payload})
    insert.run(seq, ts, type, actor, payload, prevHash, hash)
    return {seq, ts, type, actor, payload, prev_hash: prevHash, hash}
  })

  const prepareQuery = (q: LedgerQuery): {sql: string; params: unknown[]} => {
    const where: string[] = []
    const params: unknown[] = []
    if (q.type !== undefined) {
      if (PREFIX_FILTER_RE.test(q.type)) {
        // 'domain.' ≤ type < 'domain/' is exactly the types starting with 'domain.' ('/' follows '.'),
        // and unlike LIKE it can use the type index and needs no escaping of '_'.
        const prefix = q.type.slice(0, -1)
        where.push('type >= ? AND type < ?')
        params.push(prefix, `${prefix.slice(0, -1)}/`)
      } else if (EVENT_TYPE_RE.test(q.type)) {
        where.push('type = ?')
        params.push(q.type)
      } else {
        throw new UsageError(`invalid type filter ${JSON.stringify(q.type)}`, {details: ['type: an event type or a prefix written domain.*']})
      }
    }
    if (q.actor !== undefined) {
      where.push('actor = ?')
      params.push(q.actor)
    }
    if (q.after !== undefined) {
      where.push('seq > ?')
      params.push(q.after)
    }
    if (q.before !== undefined) {
      where.push('seq < ?')
      params.push(q.before)
    }
    params.push(q.limit)
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : ''
    return {sql: `SELECT ${ROW_COLUMNS} FROM events ${filter} ORDER BY seq ${q.order === 'asc' ? 'ASC' : 'DESC'} LIMIT ?`, params}
  }

  return {
    db,
    ...createCheckpointStore(db),
    append(input) {
      if (readonly) throw new BugError('append on a ledger opened read-only')
      const payload = preparePayload(input)
      try {
        return toEvent(appendTx.immediate(input.type, input.actor, payload))
      } catch (error) {
        // Another process held the write lock past the busy timeout: a transient condition, not a bug.
        if ((error as {code?: string}).code === 'SQLITE_BUSY') {
          throw new OsmodaError('NOT_READY', 'the ledger is busy (another process holds the write lock)', {hint: 'retry in a moment', cause: error})
        }
        throw error
      }
    },
    head: () => headStmt.get() ?? null,
    size: () => sizeStmt.get() ?? 0,
    query(q) {
      checkInteger('limit', q.limit, 1)
      checkInteger('before', q.before, 0)
      checkInteger('after', q.after, 0)
      if (q.order !== 'asc' && q.order !== 'desc') throw new UsageError(`order must be asc or desc, got ${String(q.order)}`, {details: ['order: asc | desc']})
      const {sql, params} = prepareQuery(q)
      let stmt = queries.get(sql)
      if (!stmt) {
        stmt = db.prepare<unknown[], Row>(sql)
        queries.set(sql, stmt)
      }
      return stmt.all(...params).map(toEvent)
    },
    eventHashes(fromSeq, toSeq) {
      checkInteger('fromSeq', fromSeq, 1)
      checkInteger('toSeq', toSeq, 0)
      return hashesStmt.all(fromSeq, toSeq).map((hex) => Buffer.from(hex, 'hex'))
    },
    close: () => db.close(),
  }
}
