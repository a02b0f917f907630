import type {Ledger, LedgerEvent} from '../../lib/ledger/ledger.js'

const POLL_MS = 100
const KEEPALIVE_MS = 15_000
const BATCH = 500

/** Filters of a follow stream. */
export interface FollowFilter {
  type?: string
  actor?: string
  /** Start after this seq (default: the current head, i.e. only new events). */
  after?: number
}

/**
 * Yields ledger events as they are appended, in seq order, resumable by `after`. Polls the head
 * because any daemon process may append; a poll is one indexed `max(seq)` read. Emits a keepalive
 * with the head seq every 15 s so clients can tell a quiet ledger from a dead connection.
 */
export async function* followLedger(ledger: Ledger, filter: FollowFilter, signal: AbortSignal, timing = {pollMs: POLL_MS, keepaliveMs: KEEPALIVE_MS}): AsyncGenerator<LedgerEvent | {keepalive: true; head_seq: number}> {
  let cursor = filter.after ?? ledger.head()?.seq ?? 0
  let lastSent = Date.now()
  while (!signal.aborted) {
    const head = ledger.head()?.seq ?? 0
    while (cursor < head && !signal.aborted) {
      const events = ledger.query({type: filter.type, actor: filter.actor, after: cursor, before: head + 1, limit: BATCH, order: 'asc'})
      for (const event of events) yield event
      // Without a match in this window everything up to the head has been seen.
      cursor = events.length === BATCH ? (events[events.length - 1] as LedgerEvent).seq : head
      if (events.length) lastSent = Date.now()
    }
    if (Date.now() - lastSent >= timing.keepaliveMs) {
      yield {keepalive: true, head_seq: head}
      lastSent = Date.now()
    }
    await sleep(timing.pollMs, signal)
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, {once: true})
  })
}
