import {z} from 'zod'
import {route} from '../../../lib/rpc/route.js'
import {Hex64, IsoTime, limit} from '../../../lib/schema/primitives.js'
import {ApprovalRule} from '../hands-config.js'
import {APPROVAL_STATUSES} from './store.js'

const O = ['operator'] as const
const OA = ['operator', 'agent'] as const

/** `apr_` + ULID. */
export const ApprovalId = z.string().regex(/^apr_[0-7][0-9A-HJKMNP-TV-Z]{25}$/, 'expected apr_ followed by a 26-character ULID')

/** An operation name: the tool name a rule is keyed by. */
export const OperationName = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'expected an operation (tool) name such as shell_exec')

/** An approval as every route returns it (SPEC §2.1 objects). */
export const Approval = z.object({
  id: ApprovalId,
  operation: z.string(),
  daemon: z.string(),
  method: z.string(),
  path: z.string(),
  digest: Hex64.describe('SHA-256 of the canonical {daemon, method, path, body} the approval is bound to'),
  summary: z.string(),
  reason: z.string(),
  actor: z.string().describe('The agent the approval is bound to (agent:<id>)'),
  status: z.enum(APPROVAL_STATUSES),
  created_at: IsoTime,
  expires_at: IsoTime.describe('Pending: when it lapses undecided. Approved: when the approval must have been used by'),
  decided_at: IsoTime.nullable(),
  decided_by: z.string().nullable(),
  note: z.string().nullable(),
  consumed_at: IsoTime.nullable(),
})

/** GET /approval/{id} adds the exact operation body, so the operator sees what they approve. */
export const ApprovalDetail = Approval.extend({body: z.record(z.string(), z.unknown()).describe('The request body the digest covers, defaults filled in')})

export const ApprovalRequestInput = z.strictObject({
  reason: z.string().min(1).max(1024).describe('Why the agent needs this, shown to the operator'),
  tool: OperationName.default('shell_exec').describe('The tool whose call needs approval (default shell_exec)'),
  arguments: z.record(z.string(), z.unknown()).default({}).describe('The exact arguments the call will be repeated with'),
  command: z.string().min(1).max(8192).optional().describe('Shorthand for shell_exec {command, mode: "host"}'),
  ttl_secs: z.number().int().min(60).max(86_400).default(600).describe('How long the request waits for a decision (60..86400 s, default 600)'),
})

const Decision = z.strictObject({note: z.string().max(500).optional().describe('Why, recorded in the ledger')})

export const ApprovalGateInput = z.strictObject({
  operation: OperationName,
  daemon: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
  path: z.string().regex(/^\/[\x21-\x7e]{0,1023}$/, 'expected a request path'),
  body: z.record(z.string(), z.unknown()),
  actor: z.string().regex(/^agent:[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected agent:<id>: only agent requests are gated'),
  summary: z.string().min(1).max(500),
  hint: z.enum(['required', 'not_required']).optional(),
  approval_id: ApprovalId.nullable().optional(),
})

export const GateOutput = z.object({
  decision: z.literal('allow'),
  approval_id: ApprovalId.nullable(),
  reason: z.enum(['operator', 'rule_never', 'not_required', 'approved']),
})

export const ApprovalRules = z.object({rules: z.record(z.string(), ApprovalRule)})

export const approvalApi = {
  approvalRequest: route('POST', '/approval/request', {input: ApprovalRequestInput, output: Approval, roles: OA}),
  approvalPending: route('GET', '/approval/pending', {output: z.object({approvals: z.array(Approval)}), roles: OA}),
  approvalList: route('GET', '/approvals', {
    input: z.strictObject({
      status: z.enum([...APPROVAL_STATUSES, 'all']).default('all'),
      limit: limit(100, 1000),
      cursor: ApprovalId.optional().describe('next_cursor of the previous page'),
    }),
    output: z.object({approvals: z.array(Approval), next_cursor: z.string().nullable()}),
    roles: O,
  }),
  approvalGet: route('GET', '/approval/{id}', {input: z.strictObject({id: ApprovalId}), output: ApprovalDetail, roles: OA}),
  approvalApprove: route('POST', '/approval/{id}/approve', {input: Decision.extend({id: ApprovalId}), output: Approval, roles: O}),
  approvalDeny: route('POST', '/approval/{id}/deny', {input: Decision.extend({id: ApprovalId}), output: Approval, roles: O}),
  approvalGate: route('POST', '/approval/gate', {input: ApprovalGateInput, output: GateOutput, roles: O, summary: 'Gate check for another daemon’s agent request'}),
  approvalRulesGet: route('GET', '/approval/rules', {output: ApprovalRules, roles: OA}),
  approvalRulesPut: route('PUT', '/approval/rules', {
    input: z.strictObject({rules: z.record(OperationName, ApprovalRule)}),
    output: ApprovalRules,
    roles: O,
    summary: 'Replace the operator’s rule overrides (persisted in agentd/approval-rules.json)',
  }),
} as const
