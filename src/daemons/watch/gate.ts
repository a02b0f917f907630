import {agentdApi} from '../agentd/api.js'
import {commonApi} from '../../lib/daemon/common-api.js'
import {runHealthCheck, systemdAvailable, type CheckTimeouts} from '../../lib/health-checks.js'
import type {OsmodaPaths} from '../../lib/paths.js'
import {createClient} from '../../lib/rpc/client.js'
import type {RequestContext} from '../../lib/rpc/server.js'
import {resolveToken} from '../../lib/tokens.js'
import type {z} from 'zod'
import type {CheckResult} from './api.js'

/** A gated request as watch sees it (SPEC §1.6). */
export interface SwitchGateRequest {
  operation: string
  method: 'POST' | 'DELETE'
  path: string
  /** The validated body with defaults filled in, without `approval_id`. */
  body: Record<string, unknown>
  ctx: Pick<RequestContext, 'role' | 'actor'>
  summary: string
  /** For `policy` operations: whether the daemon's own policy wants an approval. */
  hint?: 'required' | 'not_required'
  approvalId?: string | null
}

/** The approval gate: resolves when the request may run, throws 412 APPROVAL_REQUIRED/INVALID when not. */
export interface SwitchGate {
  check(request: SwitchGateRequest): Promise<void>
}

const OPERATOR_HEADERS = {'x-osmoda-operator': 'daemon:watch'}

/**
 * agentd's gate over its socket: agent requests go to POST /approval/gate with the operator token;
 * its 412 (and any other error) propagates unchanged. Operator requests are never gated.
 */
export function createAgentdGate(paths: OsmodaPaths): SwitchGate {
  return {
    async check(request) {
      if (request.ctx.role === 'operator') return
      const client = createClient('agentd', agentdApi, {socketPath: paths.socket('agentd'), token: resolveToken(paths), headers: OPERATOR_HEADERS})
      try {
        await client.approvalGate({
          operation: request.operation,
          daemon: 'watch',
          method: request.method,
          path: request.path,
          body: request.body,
          actor: request.ctx.actor,
          summary: request.summary.slice(0, 500),
          ...(request.hint ? {hint: request.hint} : {}),
          approval_id: request.approvalId ?? null,
        })
      } finally {
        client.close()
      }
    },
  }
}

type Result = z.output<typeof CheckResult>

/**
 * The baseline checks of a probation tick (SPEC §2.3 step 4): osmoda-agentd and osmoda-watch
 * active under systemd; without systemd, both daemons' GET /health answering on their sockets.
 */
export function createBaselineChecks(paths: OsmodaPaths, timeouts: () => CheckTimeouts): () => Promise<Result[]> {
  const viaHealth = async (daemon: string): Promise<Result> => {
    const started = performance.now()
    const check = {type: 'daemon_health' as const, daemon}
    const client = createClient(daemon, commonApi, {socketPath: paths.socket(daemon), token: resolveToken(paths), headers: OPERATOR_HEADERS, timeoutMs: 5000})
    try {
      const health = await client.health()
      return {check, ok: true, detail: `${daemon} answered: ${health.status}`, duration_ms: Math.round(performance.now() - started)}
    } catch (error) {
      return {check, ok: false, detail: `${daemon} GET /health: ${(error as Error).message}`, duration_ms: Math.round(performance.now() - started)}
    } finally {
      client.close()
    }
  }
  const viaUnit = async (daemon: string): Promise<Result> => {
    const outcome = await runHealthCheck({type: 'systemd_unit', unit: `osmoda-${daemon}.service`}, timeouts())
    return {check: {type: 'daemon_health', daemon}, ...outcome}
  }
  return () => Promise.all(['agentd', 'watch'].map((d) => (systemdAvailable() ? viaUnit(d) : viaHealth(d))))
}
