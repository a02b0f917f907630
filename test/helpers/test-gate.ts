import {OsmodaError} from '../../src/lib/errors.js'
import type {Gate, GateDecision, GateRequest} from '../../src/daemons/agentd/approvals/types.js'

/** The approval id the test gate treats as approved. */
export const APPROVED_ID = 'apr_01JDQ9ZK3W7Y4X2V5T8R6N0M1P'

/**
 * A test double of the approval gate (the real one lives in approvals/): records every call,
 * allows operators and `not_required` hints, accepts APPROVED_ID, and otherwise answers 412
 * APPROVAL_REQUIRED like the real gate.
 */
export function createTestGate(): Gate & {calls: GateRequest[]} {
  const calls: GateRequest[] = []
  return {
    calls,
    check(request: GateRequest): GateDecision {
      calls.push(structuredClone(request))
      if (request.ctx.role === 'operator') return {decision: 'allow', approval_id: null, reason: 'operator'}
      if (request.hint === 'not_required') return {decision: 'allow', approval_id: null, reason: 'not_required'}
      if (request.approvalId === APPROVED_ID) return {decision: 'allow', approval_id: APPROVED_ID, reason: 'approved'}
      throw new OsmodaError('APPROVAL_REQUIRED', `${request.operation} needs the operator's approval`, {
        details: {approval_id: 'apr_01JDQ9ZK3W7Y4X2V5T8R6N0M1Q', expires_at: '2026-11-25T21:40:00.000Z', operation: request.operation, summary: request.summary},
      })
    },
  }
}
