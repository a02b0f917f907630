import {readFileSync} from 'node:fs'
import type {z} from 'zod'
import {agentdApi, type LedgerEventOut} from '../../daemons/agentd/api.js'
import type {Approval, ApprovalDetail} from '../../daemons/agentd/approvals/api.js'
import {ACTIVE_STATUSES, watchApi, type SwitchSession} from '../../daemons/watch/api.js'
import type {Watcher} from '../../daemons/watch/watcher-api.js'
import {commonApi} from '../daemon/common-api.js'
import type {OsmodaPaths} from '../paths.js'
import {createClient, type RpcClient} from '../rpc/client.js'
import type {HealthBase} from '../schema/primitives.js'

/** One ledger event as agentd serves it. */
export type TuiEvent = z.output<typeof LedgerEventOut>
/** A keepalive line of the follow stream. */
export interface Keepalive {
  keepalive: true
  head_seq: number
}
/** The common /health fields (daemon-specific ones pass through). */
export type TuiHealth = z.output<typeof HealthBase> & Record<string, unknown>
/** An approval as the pending list shows it. */
export type TuiApproval = z.output<typeof Approval>
/** An approval with the exact request body it is bound to. */
export type TuiApprovalDetail = z.output<typeof ApprovalDetail>
export type {SwitchSession, Watcher}

/**
 * Everything the dashboard reads or does, as one seam: the real one talks to the daemons over
 * their sockets, tests pass one that replays recorded responses.
 */
export interface TuiSources {
  /** The daemons shown in the header, in order. */
  daemons: readonly string[]
  health(daemon: string): Promise<TuiHealth>
  /** Resident memory of a local pid in bytes, or null when it cannot be read. */
  rss(pid: number): number | null
  /** The newest `limit` events, oldest first. */
  recentEvents(limit: number): Promise<TuiEvent[]>
  /** The ledger's newest seq. */
  ledgerHead(): Promise<number>
  /** Events after `after`, live, until the signal aborts or the connection ends. */
  follow(after: number, signal: AbortSignal): AsyncIterable<TuiEvent | Keepalive>
  pendingApprovals(): Promise<TuiApproval[]>
  approvalDetail(id: string): Promise<TuiApprovalDetail>
  decide(id: string, decision: 'approve' | 'deny', note?: string): Promise<TuiApproval>
  /** SafeSwitch sessions holding the slot (building, activating, probation, rolling back). */
  activeSwitches(): Promise<SwitchSession[]>
  watchers(): Promise<Watcher[]>
  close(): void
}

const HEALTH_TIMEOUT_MS = 2000

/** VmRSS of /proc/<pid>/status in bytes. */
export function readRss(pid: number, proc = '/proc'): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`${proc}/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) * 1024 : null
  } catch {
    return null
  }
}

/** The real sources: one client per daemon with the operator's token. */
export function createTuiSources(options: {paths: OsmodaPaths; token: string; daemons: readonly string[]; headers?: Record<string, string>}): TuiSources {
  const clientOptions = (daemon: string) => ({socketPath: options.paths.socket(daemon), token: options.token, headers: options.headers})
  const agentd: RpcClient<typeof agentdApi> = createClient('agentd', agentdApi, clientOptions('agentd'))
  const watch: RpcClient<typeof watchApi> = createClient('watch', watchApi, clientOptions('watch'))
  const health = new Map(options.daemons.map((d) => [d, createClient(d, commonApi, clientOptions(d))]))
  return {
    daemons: options.daemons,
    health: async (daemon) => (await (health.get(daemon) ?? createClient(daemon, commonApi, clientOptions(daemon))).health(undefined, {timeoutMs: HEALTH_TIMEOUT_MS})) as TuiHealth,
    rss: (pid) => readRss(pid),
    recentEvents: async (limit) => (limit > 0 ? (await agentd.eventsLog({limit})).events.reverse() : []),
    ledgerHead: async () => (await agentd.ledgerStatus(undefined, {timeoutMs: HEALTH_TIMEOUT_MS})).size,
    follow: (after, signal) => agentd.follow('eventsLog', {after}, {signal}) as AsyncIterable<TuiEvent | Keepalive>,
    pendingApprovals: async () => (await agentd.approvalPending()).approvals,
    approvalDetail: (id) => agentd.approvalGet({id}),
    decide: (id, decision, note) => (decision === 'approve' ? agentd.approvalApprove({id, note}) : agentd.approvalDeny({id, note})),
    activeSwitches: async () => (await watch.switchList({limit: 20})).switches.filter((s) => ACTIVE_STATUSES.includes(s.status)),
    watchers: async () => (await watch.watcherList({})).watchers,
    close: () => {
      agentd.close()
      watch.close()
      for (const client of health.values()) client.close()
    },
  }
}
