import type {z} from 'zod'
import type {Approval, ApprovalDetail} from '../../daemons/agentd/approvals/api.js'

/** An approval as the operator reads it before deciding: what, who, until when, and the exact body. */
export function renderApproval(approval: z.output<typeof Approval> | z.output<typeof ApprovalDetail>): string {
  const lines = [
    `${approval.id}  ${approval.status.toUpperCase()}  ${approval.operation}`,
    `  summary:  ${approval.summary}`,
    approval.reason ? `  reason:   ${approval.reason}` : '',
    `  agent:    ${approval.actor}`,
    `  request:  ${approval.daemon} ${approval.method} ${approval.path}`,
    `  digest:   ${approval.digest}`,
    `  created:  ${approval.created_at}`,
    `  expires:  ${approval.expires_at}${approval.status === 'approved' ? ' (must be used by then)' : ''}`,
    approval.decided_at ? `  decided:  ${approval.decided_at} by ${approval.decided_by}${approval.note ? ` — ${approval.note}` : ''}` : '',
    approval.consumed_at ? `  used:     ${approval.consumed_at}` : '',
  ]
  if ('body' in approval) lines.push('  body:', ...JSON.stringify(approval.body, null, 2).split('\n').map((line) => `    ${line}`))
  return lines.filter(Boolean).join('\n')
}
