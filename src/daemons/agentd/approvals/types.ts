import type {RequestContext} from '../../../lib/rpc/server.js'

/**
 * The approval gate as agentd's own routes call it (SPEC §1.6). Other daemons reach the same gate
 * through POST /approval/gate.
 *
 * A route whose operation may need a human's approval calls `gate.check` before it acts:
 * - an operator request is always allowed (`reason: "operator"`), nothing is recorded;
 * - `never` rules, and `policy` rules with hint `not_required`, are allowed without an approval;
 * - otherwise, without `approvalId`, a pending approval bound to the operation digest and the
 *   agent is created (or the identical pending one returned) and `check` throws 412
 *   `APPROVAL_REQUIRED {approval_id, expires_at, operation, summary}`;
 * - with `approvalId`, the approval must be approved, unexpired, unused, for the same digest and
 *   the same actor; it is consumed in the same transaction (single use) or `check` throws 412
 *   `APPROVAL_INVALID` and nothing may run.
 */
export interface GateRequest {
  /** The tool name the rule is keyed by, e.g. `shell_exec`, `file_write`, `agent_card`. */
  operation: string
  /** HTTP method and path of the route being called, part of the digest. */
  method: string
  path: string
  /** The validated request body with defaults filled in; `approval_id` is removed before hashing. */
  body: Record<string, unknown>
  /** The caller: role and actor decide; an agent's actor is `agent:<id>`. */
  ctx: Pick<RequestContext, 'role' | 'actor'>
  /** One line shown to the operator: what exactly will happen (≤ 500 characters). */
  summary: string
  /** For `policy` rules: the daemon's own policy verdict. */
  hint?: 'required' | 'not_required'
  /** The approval the caller presents, if any. */
  approvalId?: string | null
}

/** Why a gated request may go ahead. */
export interface GateDecision {
  decision: 'allow'
  approval_id: string | null
  reason: 'operator' | 'rule_never' | 'not_required' | 'approved'
}

/** agentd's gate; throws `APPROVAL_REQUIRED` / `APPROVAL_INVALID` (HTTP 412) when a request may not run. */
export interface Gate {
  check(request: GateRequest): GateDecision
}
