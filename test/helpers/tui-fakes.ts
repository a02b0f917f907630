import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {DaemonUnavailableError} from '../../src/lib/errors.js'
import type {Keepalive, SwitchSession, TuiApproval, TuiApprovalDetail, TuiEvent, TuiHealth, TuiSources, Watcher} from '../../src/lib/tui/sources.js'
import {ROOT} from './env.js'

/** A recorded response of a real stack (scripts/record-tui-fixtures.js). */
export function tuiFixture<T>(name: 'ledger-events' | 'health' | 'approvals-pending' | 'approval-detail' | 'switches' | 'watchers'): T {
  return JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'tui', `${name}.json`), 'utf8')) as T
}

type Item = TuiEvent | Keepalive

/**
 * TuiSources that answer from the recorded fixtures, with a follow stream the test drives:
 * `push` delivers events to the open stream, `drop` breaks it (as agentd going away does).
 */
export function fakeTuiSources(options: {events?: TuiEvent[]; head?: number; health?: Record<string, TuiHealth | Error>; approvals?: TuiApproval[]; switches?: SwitchSession[] | Error; watchers?: Watcher[] | Error} = {}) {
  const events = options.events ?? tuiFixture<TuiEvent[]>('ledger-events')
  const health = options.health ?? tuiFixture<Record<string, TuiHealth>>('health')
  let approvals = options.approvals ?? tuiFixture<TuiApproval[]>('approvals-pending')
  const detail = tuiFixture<TuiApprovalDetail>('approval-detail')
  const ledger = [...events]
  let head = options.head ?? events.at(-1)?.seq ?? 0
  let agentdUp = true
  const followCalls: number[] = []
  const decisions: {id: string; decision: string; note?: string}[] = []
  const waiters = new Set<() => void>()
  const wakeAll = () => {
    for (const wake of waiters) wake()
    waiters.clear()
  }
  const unavailable = (why: string) => new DaemonUnavailableError('agentd', `osmoda-agentd is not reachable (${why})`)

  const sources: TuiSources = {
    daemons: Object.keys(health),
    async health(daemon) {
      const answer = health[daemon]
      if (!answer) throw new DaemonUnavailableError(daemon, `osmoda-${daemon} is not reachable (ENOENT)`)
      if (answer instanceof Error) throw answer
      return answer
    },
    rss: (pid) => pid * 1024,
    async recentEvents(limit) {
      if (!agentdUp) throw unavailable('ECONNREFUSED')
      return limit > 0 ? events.slice(-limit) : []
    },
    async ledgerHead() {
      if (!agentdUp) throw unavailable('ECONNREFUSED')
      return head
    },
    follow(after, signal) {
      followCalls.push(after)
      const up = agentdUp
      // Like agentd's follow: every event after `after`, in seq order, then new ones as they come.
      return (async function* () {
        if (!up) throw unavailable('ECONNREFUSED')
        let cursor = after
        while (!signal.aborted) {
          if (!agentdUp) throw unavailable('ECONNRESET')
          const next = ledger.find((event) => event.seq > cursor)
          if (next) {
            cursor = next.seq
            yield next as Item
            continue
          }
          await new Promise<void>((resolve) => {
            waiters.add(resolve)
            signal.addEventListener('abort', () => resolve(), {once: true})
          })
        }
      })()
    },
    async pendingApprovals() {
      return approvals
    },
    async approvalDetail(id) {
      return {...detail, id}
    },
    async decide(id, decision, note) {
      decisions.push({id, decision, note})
      const approval = approvals.find((a) => a.id === id)
      if (!approval) throw new Error(`${id} is not pending`)
      approvals = approvals.filter((a) => a.id !== id)
      return {...approval, status: decision === 'approve' ? 'approved' : 'denied', decided_by: 'operator:root', decided_at: new Date().toISOString()}
    },
    async activeSwitches() {
      const switches = options.switches ?? tuiFixture<SwitchSession[]>('switches')
      if (switches instanceof Error) throw switches
      return switches
    },
    async watchers() {
      const watchers = options.watchers ?? tuiFixture<Watcher[]>('watchers')
      if (watchers instanceof Error) throw watchers
      return watchers
    },
    close() {},
  }

  return {
    sources,
    followCalls,
    decisions,
    /** Appends events to the ledger (an open stream delivers them; a later one resumes with them). */
    push(...items: TuiEvent[]) {
      ledger.push(...items)
      for (const item of items) head = Math.max(head, item.seq)
      wakeAll()
    },
    /** agentd goes away: the open stream breaks and reads fail until `up()`. */
    down() {
      agentdUp = false
      wakeAll()
    },
    up() {
      agentdUp = true
    },
    setApprovals(next: TuiApproval[]) {
      approvals = next
    },
  }
}

/** An event shaped like the recorded ones, with the next seq. */
export function nextEvent(seq: number, type: string, actor: string, payload: Record<string, unknown> = {}): TuiEvent {
  return {seq, ts: new Date(Date.UTC(2026, 10, 26, 5, 0, seq % 60)).toISOString(), type, actor, payload, prev_hash: '0'.repeat(64), hash: String(seq % 10).repeat(64)}
}

/** Waits until `check` passes (Ink renders asynchronously). */
export async function eventually(check: () => void, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    try {
      check()
      return
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((r) => setTimeout(r, 10))
    }
  }
}
