import {OsmodaError} from '../../errors.js'
import type {TuiEvent, TuiSources} from '../sources.js'

/** What the tail loop reports. */
export interface TailHandlers {
  event(event: TuiEvent): void
  note(text: string, tone: 'info' | 'warn'): void
  state(state: TailState): void
}

/** The connection to agentd's follow stream. */
export type TailState = {kind: 'connecting'} | {kind: 'live'; seq: number} | {kind: 'reconnecting'; attempt: number; retryInMs: number; reason: string}

/** Back-off between reconnect attempts: doubles from `initialMs` up to `maxMs`. */
export interface TailTiming {
  initialMs: number
  maxMs: number
  now(): number
}

const DEFAULT_TIMING: TailTiming = {initialMs: 500, maxMs: 8000, now: () => Date.now()}

/**
 * Follows the ledger through agentd until `signal` aborts: first the newest `backlog` events,
 * then the live stream. When agentd goes away it retries with back-off and resumes after the last
 * seq it delivered, so nothing is lost or repeated, and it says so with one line: how long it was
 * away, how many events were appended meanwhile (they follow), and the seq it resumed from.
 */
export async function runLedgerTail(sources: TuiSources, handlers: TailHandlers, signal: AbortSignal, options: {backlog: number; timing?: Partial<TailTiming>}): Promise<void> {
  const timing = {...DEFAULT_TIMING, ...options.timing}
  let lastSeq: number | null = null
  let lostAt: number | null = null
  let delay = timing.initialMs
  let attempt = 0
  handlers.state({kind: 'connecting'})
  while (!signal.aborted) {
    try {
      if (lastSeq === null) {
        const recent = await sources.recentEvents(options.backlog)
        lastSeq = recent.length ? (recent[recent.length - 1] as TuiEvent).seq : await sources.ledgerHead()
        if (lostAt !== null) handlers.note(`… connected to agentd after ${seconds(timing.now() - lostAt)}`, 'info')
        for (const event of recent) handlers.event(event)
      } else if (lostAt !== null) {
        const head = await sources.ledgerHead()
        if (head < lastSeq) {
          handlers.note(`… reconnected after ${seconds(timing.now() - lostAt)}, but the ledger head ${head} is behind seq ${lastSeq} (restored from a backup?): following from ${head}`, 'warn')
          lastSeq = head
        } else {
          handlers.note(`… reconnected after ${seconds(timing.now() - lostAt)}, ${head - lastSeq} event(s) missed while away, resumed from seq ${lastSeq}`, 'info')
        }
      }
      lostAt = null
      delay = timing.initialMs
      attempt = 0
      handlers.state({kind: 'live', seq: lastSeq})
      for await (const item of sources.follow(lastSeq, signal)) {
        if ('keepalive' in item) continue
        if (item.seq <= lastSeq) continue
        lastSeq = item.seq
        handlers.event(item)
      }
      if (signal.aborted) break
      throw new OsmodaError('DAEMON_UNAVAILABLE', 'agentd closed the event stream')
    } catch (error) {
      if (signal.aborted) break
      const reason = error instanceof OsmodaError ? `${error.code}: ${error.message}` : String(error)
      if (lostAt === null) {
        lostAt = timing.now()
        handlers.note(lastSeq === null ? `… cannot reach agentd (${reason}); retrying` : `… lost agentd after seq ${lastSeq} (${reason}); reconnecting`, 'warn')
      }
      attempt++
      handlers.state({kind: 'reconnecting', attempt, retryInMs: delay, reason})
      await sleep(delay, signal)
      delay = Math.min(delay * 2, timing.maxMs)
    }
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, {once: true})
  })
}
