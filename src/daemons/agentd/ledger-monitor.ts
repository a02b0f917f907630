import type {KeyObject} from 'node:crypto'
import {ConflictError} from '../../lib/errors.js'
import {signCheckpoint} from '../../lib/ledger/checkpoint.js'
import {formatTs} from '../../lib/ledger/format.js'
import type {Ledger} from '../../lib/ledger/ledger.js'
import {createMerkleRange, leafHash} from '../../lib/ledger/merkle.js'
import {verifyChain} from '../../lib/ledger/verify.js'
import type {Logger} from '../../lib/log.js'

const VERIFY_CHUNK = 5000
const TICK_MS = 1000

/** The background verifier's view of the chain (GET /ledger/status `verify`). */
export interface VerifyStatus {
  state: 'pending' | 'running' | 'ok' | 'failed'
  verified_through_seq: number
  first_bad_seq: number | null
  bad_count: number
  checked_at: string | null
}

/** Dependencies and settings of the monitor. */
export interface LedgerMonitorOptions {
  ledger: Ledger
  log: Logger
  signingKey: KeyObject
  origin: string
  everyEvents: number
  everySecs: number
  now?: () => number
}

/**
 * agentd's two ledger loops in one tick: verify rows appended since the last tick (a full pass at
 * start, in chunks so the event loop keeps serving), and sign an RFC 9162 checkpoint every
 * `everyEvents` events or `everySecs` seconds when there are new events. The Merkle root is kept
 * as a compact range (one hash per perfect subtree), so each append costs O(log n), not O(n).
 */
export function createLedgerMonitor(options: LedgerMonitorOptions) {
  const {ledger, log} = options
  const now = options.now ?? Date.now
  const status: VerifyStatus = {state: 'pending', verified_through_seq: 0, first_bad_seq: null, bad_count: 0, checked_at: null}
  const range = createMerkleRange()
  let lastCheckpointAt = now()
  let reported = false
  let requested: {from: number; to?: number} | null = null
  let everyEvents = options.everyEvents
  let everySecs = options.everySecs

  const extendRange = (through: number) => {
    for (let from = range.size + 1; from <= through; from += VERIFY_CHUNK) {
      for (const hash of ledger.eventHashes(from, Math.min(through, from + VERIFY_CHUNK - 1))) range.push(leafHash(hash))
    }
  }

  const sign = () => {
    const size = ledger.size()
    extendRange(size)
    const root = range.root()
    const note = signCheckpoint({origin: options.origin, size, rootHash: root, privateKey: options.signingKey, keyName: options.origin})
    const checkpoint = {size, root_hash: root.toString('base64'), ts: formatTs(new Date(now())), note}
    ledger.saveCheckpoint(checkpoint)
    lastCheckpointAt = now()
    return checkpoint
  }

  const verifyStep = () => {
    const head = ledger.size()
    const from = status.verified_through_seq + 1
    if (from > head) return
    status.state = status.state === 'failed' ? 'failed' : 'running'
    const to = Math.min(head, from + VERIFY_CHUNK - 1)
    const report = verifyChain(ledger.db, {from, to})
    status.verified_through_seq = to
    status.checked_at = formatTs(new Date(now()))
    if (!report.ok) {
      status.state = 'failed'
      status.first_bad_seq ??= report.first_bad_seq
      status.bad_count += report.bad_count
    } else if (status.state !== 'failed' && to === head) {
      status.state = 'ok'
    }
    if (status.state === 'failed' && !reported) {
      reported = true
      log.error('ledger integrity check failed', {first_bad_seq: status.first_bad_seq, bad_count: status.bad_count})
      ledger.append({type: 'ledger.integrity_failed', actor: 'agentd', payload: {first_bad_seq: status.first_bad_seq, bad_count: status.bad_count}})
      ledger.append({
        type: 'notification.requested',
        actor: 'agentd',
        payload: {source: 'agentd', severity: 'critical', title: 'Ledger integrity check failed', message: `first bad seq ${status.first_bad_seq}, ${status.bad_count} bad row(s); run osmoda verify-ledger`},
      })
    }
  }

  const runRequested = () => {
    if (!requested) return
    const {from, to} = requested
    requested = null
    const report = verifyChain(ledger.db, {from, to})
    ledger.append({
      type: 'ledger.verified',
      actor: 'agentd',
      payload: {from, to: to ?? report.head_seq, ok: report.ok, first_bad_seq: report.first_bad_seq, bad_count: report.bad_count},
    })
  }

  const tick = () => {
    verifyStep()
    runRequested()
    const size = ledger.size()
    const latest = ledger.latestCheckpoint()?.size ?? 0
    const due = size - latest >= everyEvents || (size > latest && now() - lastCheckpointAt >= everySecs * 1000)
    if (due) sign()
  }

  return {
    /** Runs the loops until the signal aborts: the first tick does the full pass. */
    start(signal: AbortSignal): void {
      let timer: NodeJS.Timeout | undefined
      signal.addEventListener('abort', () => clearTimeout(timer), {once: true})
      const loop = () => {
        if (signal.aborted) return
        try {
          tick()
        } catch (error) {
          log.error('ledger monitor tick failed', {error})
        }
        // Keep going in chunks right away while a pass is unfinished; otherwise wait a second.
        const behind = status.verified_through_seq < ledger.size()
        timer = setTimeout(loop, behind ? 0 : TICK_MS)
      }
      timer = setTimeout(loop, 0)
    },
    status: (): VerifyStatus => ({...status}),
    /** Applies a reloaded checkpoint schedule. */
    setSchedule(events: number, secs: number): void {
      everyEvents = events
      everySecs = secs
    },
    /** Signs a checkpoint of the current head now (POST /ledger/checkpoint). */
    checkpointNow: sign,
    /** Queues an operator-requested verification; its result lands as `ledger.verified`. */
    requestVerify(from: number, to?: number): void {
      if (requested) throw new ConflictError('a verification is already queued', {details: {state: 'running'}})
      requested = {from, to}
    },
  }
}

/** The monitor's interface. */
export type LedgerMonitor = ReturnType<typeof createLedgerMonitor>
