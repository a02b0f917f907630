import type {agentdApi} from '../../agentd/api.js'
import type {RpcClient} from '../../../lib/rpc/client.js'
import type {Logger} from '../../../lib/log.js'
import type {RoutinesConfig} from '../config.js'

/** The agentd client the actions read through (the operator token, as daemon:routines). */
export type AgentdClient = RpcClient<typeof agentdApi>

/** Severity of `notification.requested` (SPEC §1.11). */
export type Severity = 'info' | 'warning' | 'critical'

/** What one action run sees. */
export interface ActionContext {
  routineId: string
  /** The routine's name, used in notification titles. */
  routineName: string
  agentd: AgentdClient
  config: RoutinesConfig
  /** Aborted on timeout or shutdown. */
  signal: AbortSignal
  /** The run's deadline in ms. */
  timeoutMs: number
  now(): number
  log: Logger
  /** Small values this routine remembers between runs (baselines, streaks, cursors). */
  memo: {get(key: string): string | null; set(key: string, value: string): void}
  /** Webhook action header values (write-only, kept in routines.db). */
  headers(): Record<string, string>
  /** Appends `notification.requested` for the operator. */
  notify(severity: Severity, title: string, message: string): void
}

/** What an action found; `output` is rendered into the run's history. */
export interface ActionOutcome {
  status: 'ok' | 'error'
  output: Record<string, unknown>
  error?: string
}
