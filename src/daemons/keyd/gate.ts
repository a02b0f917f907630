import {agentdApi} from '../agentd/api.js'
import type {OsmodaPaths} from '../../lib/paths.js'
import {createClient} from '../../lib/rpc/client.js'
import type {RequestContext} from '../../lib/rpc/server.js'
import {resolveToken} from '../../lib/tokens.js'

/** A gated keyd request (SPEC §1.6). */
export interface KeydGateRequest {
  operation: 'wallet_sign' | 'wallet_send' | 'wallet_build_tx' | 'wallet_delete'
  path: string
  /** The validated body with defaults filled in, without `approval_id`. */
  body: Record<string, unknown>
  ctx: Pick<RequestContext, 'role' | 'actor'>
  summary: string
  /** keyd's own policy verdict for `policy` rules. */
  hint?: 'required' | 'not_required'
  approvalId?: string | null
}

/** The approval gate: resolves with the consumed approval id (or null), throws 412 when the request may not run. */
export interface KeydGate {
  check(request: KeydGateRequest): Promise<string | null>
}

const OPERATOR_HEADERS = {'x-osmoda-operator': 'daemon:keyd'}

/**
 * agentd's gate over its socket: agent requests go to POST /approval/gate with the operator token;
 * its 412 (and any other error) propagates unchanged. Operator requests are never gated.
 */
export function createAgentdGate(paths: OsmodaPaths): KeydGate {
  return {
    async check(request) {
      if (request.ctx.role === 'operator') return null
      const client = createClient('agentd', agentdApi, {socketPath: paths.socket('agentd'), token: resolveToken(paths), headers: OPERATOR_HEADERS})
      try {
        const out = await client.approvalGate({
          operation: request.operation,
          daemon: 'keyd',
          method: 'POST',
          path: request.path,
          body: request.body,
          actor: request.ctx.actor,
          summary: request.summary.slice(0, 500),
          ...(request.hint ? {hint: request.hint} : {}),
          approval_id: request.approvalId ?? null,
        })
        return out.approval_id
      } finally {
        client.close()
      }
    },
  }
}
