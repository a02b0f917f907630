import {z} from 'zod'
import {agentdApi} from '../../../daemons/agentd/api.js'
import {ApprovalId} from '../../../daemons/agentd/approvals/api.js'
import {defineTool} from '../define-tool.js'
import {READ_ONLY} from './annotations.js'


/** approval_request: ask the operator up front for a gated call. */
export const approvalRequest = defineTool({
  name: 'approval_request',
  title: 'Ask the operator for approval',
  description:
    'Asks the operator to approve one exact tool call before you make it (host commands, writes under /etc, switching the system, …). ' +
    'Give `tool` and the exact `arguments` you will call it with, or just `command` for a host shell command (shorthand for shell_exec ' +
    'with mode "host"), and a `reason` the operator will read. Returns the approval (id, status "pending", expires_at). Tell the ' +
    'operator to run `osmoda approval approve <id>`; check with approval_check; once it is "approved", repeat the call with exactly the ' +
    'same arguments plus approval_id. An approval works once, for that call only, and lapses if unused. A gated call made without ' +
    'asking first returns APPROVAL_REQUIRED with an approval already opened, so this tool is optional.',
  toolset: 'agentd',
  route: agentdApi.approvalRequest,
  annotations: {readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false},
  roles: ['agent'],
  summarize: (a) => `${a.id} ${a.status} until ${a.expires_at}: ${a.summary}. Ask the operator to run \`osmoda approval approve ${a.id}\`.`,
  run: (clients, args) => clients.agentd.approvalRequest(args),
})

/** approval_pending: what waits for the operator. */
export const approvalPending = defineTool({
  name: 'approval_pending',
  title: 'Approvals waiting for the operator',
  description: 'Lists the approvals still waiting for the operator\'s decision, newest first (id, operation, summary, actor, expires_at). It changes nothing.',
  toolset: 'agentd',
  route: agentdApi.approvalPending,
  annotations: READ_ONLY,
  summarize: (r) => (r.approvals.length ? `${r.approvals.length} pending: ${r.approvals.slice(0, 5).map((a) => `${a.id} ${a.summary}`).join(' | ')}` : 'nothing is waiting for approval'),
  run: (clients) => clients.agentd.approvalPending(),
})

/** approval_check: one approval's state. */
export const approvalCheck = defineTool({
  name: 'approval_check',
  title: 'Check an approval',
  description:
    'Shows one approval: status (pending, approved, denied, expired, consumed), the exact request body it covers, who decided and ' +
    'their note, and expires_at (for an approved one: the time by which you must use it). It changes nothing.',
  toolset: 'agentd',
  route: agentdApi.approvalGet,
  annotations: READ_ONLY,
  summarize: (a) => `${a.id}: ${a.status}${a.decided_by ? ` by ${a.decided_by}` : ''}${a.note ? ` (${a.note})` : ''}; ${a.summary}`,
  run: (clients, args) => clients.agentd.approvalGet(args),
})

const ApproveInput = z.strictObject({
  id: ApprovalId.describe('The approval to decide (apr_…)'),
  decision: z.enum(['approve', 'deny']).default('approve'),
  note: z.string().max(500).optional().describe('Why, recorded in the ledger'),
})

/** approval_approve: the operator's decision (operator role only; the agent never sees it). */
export const approvalApprove = defineTool({
  name: 'approval_approve',
  title: 'Approve or deny',
  description: 'Approves (default) or denies a pending approval. Operator only.',
  toolset: 'agentd',
  route: agentdApi.approvalApprove,
  input: ApproveInput,
  annotations: {readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false},
  roles: ['operator'],
  summarize: (a) => `${a.id} ${a.status}`,
  run: (clients, {decision, ...rest}) => (decision === 'deny' ? clients.agentd.approvalDeny(rest) : clients.agentd.approvalApprove(rest)),
  target: ({decision, ...rest}) => ({route: decision === 'deny' ? agentdApi.approvalDeny : agentdApi.approvalApprove, input: rest}),
})

export const APPROVAL_TOOLS = [approvalRequest, approvalPending, approvalApprove, approvalCheck]
