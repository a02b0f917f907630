import type {Statement} from 'better-sqlite3'
import type {z} from 'zod'
import {NotFoundError, UsageError} from '../../lib/errors.js'
import type {Ledger, LedgerEvent} from '../../lib/ledger/ledger.js'
import type {Receipt, ReceiptListInput} from './api.js'

/**
 * The mutation event types a receipt can view (SPEC §2.1 *Receipt*): exact types and GLOB patterns.
 * Read-only records (tool.called, daemon.started, incident.*) are in the ledger but are not receipts.
 */
export const RECEIPT_TYPE_PATTERNS: readonly string[] = [
  'exec.completed',
  'file.written',
  'memory.stored',
  'switch.*',
  'wallet.*',
  'app.*',
  'routine.added',
  'routine.removed',
  'watcher.added',
  'watcher.removed',
  'mesh.invite_*',
  'mesh.peer_*',
  'backup.created',
  'approval.*',
  'capability.*',
  'safety.*',
  'fleet.*',
  'teach.optimization_*',
]

const RECEIPT_PREDICATE = `(${RECEIPT_TYPE_PATTERNS.map((p) => (p.endsWith('*') ? `type GLOB '${p}'` : `type = '${p}'`)).join(' OR ')})`

/** True when events of this type are receipts. */
export function isReceiptType(type: string): boolean {
  return RECEIPT_TYPE_PATTERNS.some((p) => (p.endsWith('*') ? type.startsWith(p.slice(0, -1)) : type === p))
}

// Values spliced into an undo command line must be plain tokens: a payload is not trusted shell.
const SAFE_ARG = /^[A-Za-z0-9_.:@-]{1,128}$/

const arg = (payload: Record<string, unknown>, ...keys: string[]): string | null => {
  for (const key of keys) {
    const value = payload[key]
    if ((typeof value === 'string' || typeof value === 'number') && SAFE_ARG.test(String(value))) return String(value)
  }
  return null
}

/** The `osmoda` CLI line that undoes an event (SPEC §2.1), or null when there is none. */
export function undoAction(type: string, payload: Record<string, unknown>): string | null {
  switch (type) {
    case 'switch.committed': {
      const id = arg(payload, 'switch_id', 'id')
      const generation = arg(payload, 'previous_generation')
      return id && generation ? `osmoda switch begin --plan "undo ${id}" --generation ${generation}` : null
    }
    case 'app.deployed': {
      const name = arg(payload, 'name')
      return name ? `osmoda app remove ${name}` : null
    }
    case 'routine.added': {
      const id = arg(payload, 'routine_id', 'id')
      return id ? `osmoda routine remove ${id}` : null
    }
    case 'watcher.added': {
      const id = arg(payload, 'watcher_id', 'id')
      return id ? `osmoda watcher remove ${id}` : null
    }
    case 'capability.minted': {
      const id = arg(payload, 'token_id')
      return id ? `osmoda capability revoke ${id}` : null
    }
    case 'mesh.peer_added': {
      const id = arg(payload, 'peer_id', 'id')
      return id ? `osmoda mesh peer remove ${id}` : null
    }
    default:
      // Everything under wallet.* is explicitly irreversible; other types have no undo line.
      return null
  }
}

const SUMMARY_KEYS = ['name', 'path', 'unit', 'switch_id', 'approval_id', 'token_id', 'memory_id', 'peer_id', 'routine_id', 'watcher_id', 'wallet_id', 'id', 'operation', 'exit_code']

/** A one-line description of an event: its type, who, and its most telling fields. */
export function receiptSummary(event: Pick<LedgerEvent, 'type' | 'actor' | 'payload'>): string {
  const p = event.payload
  if (event.type === 'exec.completed' && Array.isArray(p.argv)) {
    const argv = p.argv.map(String).join(' ')
    return `${event.actor} ran ${argv.length > 120 ? `${argv.slice(0, 117)}...` : argv} (exit ${String(p.exit_code)}${p.timed_out ? ', timed out' : ''})`
  }
  if (event.type === 'file.written') return `${event.actor} wrote ${String(p.path)} (${String(p.bytes)} bytes${p.append ? ', appended' : ''})`
  const fields = SUMMARY_KEYS.filter((k) => typeof p[k] === 'string' || typeof p[k] === 'number')
    .slice(0, 3)
    .map((k) => `${k}=${String(p[k]).slice(0, 80)}`)
  return `${event.type} by ${event.actor}${fields.length ? ` (${fields.join(', ')})` : ''}`
}

/** The receipt view of one ledger event. */
export function toReceipt(event: LedgerEvent): z.input<typeof Receipt> {
  const undo = event.type.startsWith('wallet.') ? null : undoAction(event.type, event.payload)
  return {
    id: `rcpt_${event.seq}`,
    event_seq: event.seq,
    receipt_type: event.type,
    actor: event.actor,
    summary: receiptSummary(event),
    detail: event.payload,
    timestamp: event.ts,
    hash: event.hash,
    reversible: undo !== null,
    undo_action: undo,
  }
}

type Row = Omit<LedgerEvent, 'payload'> & {payload: string}

const UNIT_MS: Record<string, number> = {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000}

/** A `since` input (duration back from now, or an RFC 3339 instant) as the ledger's ts format. */
export function resolveSince(since: string, now: number): string {
  const duration = /^([0-9]+)([smhdw])$/.exec(since)
  const ms = duration ? now - Number(duration[1]) * (UNIT_MS[duration[2] as string] as number) : Date.parse(since)
  if (Number.isNaN(ms)) throw new UsageError(`invalid since ${JSON.stringify(since)}`, {details: ['since: a duration such as 24h or an RFC 3339 instant']})
  // Before the epoch nothing was recorded; clamping keeps toISOString in range for absurd durations.
  return new Date(Math.max(ms, 0)).toISOString()
}

/** Receipts: read-only queries over the ledger's events table, newest first. */
export function createReceiptService(deps: {ledger: Ledger; now?: () => number}) {
  const {ledger} = deps
  const now = deps.now ?? Date.now
  const statements = new Map<string, Statement<unknown[], Row>>()

  const prepared = (sql: string) => {
    let stmt = statements.get(sql)
    if (!stmt) {
      stmt = ledger.db.prepare<unknown[], Row>(sql)
      statements.set(sql, stmt)
    }
    return stmt
  }

  return {
    list(input: z.output<typeof ReceiptListInput>): {receipts: z.input<typeof Receipt>[]; next_cursor: string | null} {
      const where = [RECEIPT_PREDICATE]
      const params: unknown[] = []
      if (input.type !== undefined) {
        // A bare domain ("app") means the same as "app.*".
        const prefix = input.type.endsWith('.*') ? input.type.slice(0, -1) : input.type.includes('.') ? null : `${input.type}.`
        if (prefix === null) {
          where.push('type = ?')
          params.push(input.type)
        } else {
          // 'domain.' ≤ type < 'domain/' selects exactly the types of that domain ('/' follows '.').
          where.push('type >= ? AND type < ?')
          params.push(prefix, `${prefix.slice(0, -1)}/`)
        }
      }
      if (input.actor !== undefined) {
        where.push('actor = ?')
        params.push(input.actor)
      }
      if (input.since !== undefined) {
        where.push('ts >= ?')
        params.push(resolveSince(input.since, now()))
      }
      if (input.cursor !== undefined) {
        where.push('seq < ?')
        params.push(Number(input.cursor))
      }
      params.push(input.limit + 1)
      const rows = prepared(`SELECT seq, ts, type, actor, payload, prev_hash, hash FROM events WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`).all(...params)
      const page = rows.slice(0, input.limit).map((row) => toReceipt({...row, payload: JSON.parse(row.payload) as Record<string, unknown>}))
      const last = page[page.length - 1]
      return {receipts: page, next_cursor: rows.length > input.limit && last ? String(last.event_seq) : null}
    },

    get(id: string): z.input<typeof Receipt> {
      const seq = Number(id.slice('rcpt_'.length))
      const event = seq <= ledger.size() ? ledger.query({after: seq - 1, before: seq + 1, limit: 1, order: 'asc'})[0] : undefined
      if (!event || !isReceiptType(event.type)) {
        throw new NotFoundError(event ? `${id} is a ${event.type} event, which is not a receipt` : `no receipt ${id}`, {hint: event ? `read it with osmoda events --after ${seq - 1} --limit 1` : 'list receipts with receipt list'})
      }
      return toReceipt(event)
    },
  }
}

/** The receipt service's interface. */
export type ReceiptService = ReturnType<typeof createReceiptService>
