import type {RequestContext} from '../../lib/rpc/server.js'
import type {AgentdClient} from './actions/context.js'

/** One gated request of routines (SPEC §1.6). */
export interface RoutineGateRequest {
  operation: 'routine_add' | 'routine_disable' | 'routine_remove'
  method: 'POST' | 'PATCH' | 'DELETE'
  /** The concrete path, e.g. /routine/rtn_…. */
  path: string
  /** The validated body with defaults, without `id` and `approval_id`. */
  body: Record<string, unknown>
  caller: Pick<RequestContext, 'role' | 'actor'>
  summary: string
  hint?: 'required' | 'not_required'
  approvalId?: string
}

/** Lets a request through or throws agentd's 412 (APPROVAL_REQUIRED / APPROVAL_INVALID) unchanged. */
export interface RoutineGate {
  check(request: RoutineGateRequest): Promise<void>
}

/** The real gate: agentd POST /approval/gate with the operator token; operator calls are never gated. */
export function createRemoteGate(agentd: () => AgentdClient): RoutineGate {
  return {
    async check(request) {
      if (request.caller.role === 'operator') return
      await agentd().approvalGate({
        operation: request.operation,
        daemon: 'routines',
        method: request.method,
        path: request.path,
        body: request.body,
        actor: request.caller.actor,
        summary: request.summary,
        hint: request.hint,
        approval_id: request.approvalId ?? null,
      })
    },
  }
}
