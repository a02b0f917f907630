import type {Handlers} from '../../../lib/rpc/server.js'
import type {approvalApi} from './api.js'
import type {ApprovalService} from './service.js'

/** Binds the approval routes to the service; the deciding actor always comes from the token, never the body. */
export function approvalHandlers(approvals: ApprovalService): Handlers<typeof approvalApi> {
  return {
    approvalRequest: (input, ctx) => approvals.request(input, ctx),
    approvalPending: () => approvals.pending(),
    approvalList: (input) => approvals.list(input),
    approvalGet: (input) => approvals.get(input.id),
    approvalApprove: (input, ctx) => approvals.approve(input.id, input.note, ctx.actor),
    approvalDeny: (input, ctx) => approvals.deny(input.id, input.note, ctx.actor),
    approvalGate: (input) => approvals.gateRoute(input),
    approvalRulesGet: () => approvals.rules(),
    approvalRulesPut: (input, ctx) => approvals.setRules(input.rules, ctx.actor),
  }
}
