import {Box, Text} from 'ink'
import type {DecisionMessage} from '../hooks/use-approvals.js'
import type {Polled} from '../hooks/use-polled.js'
import type {TuiApproval, TuiApprovalDetail} from '../sources.js'

const MAX_ROWS = 6

/** A confirmation waiting for y/n. */
export interface PendingDecision {
  id: string
  decision: 'approve' | 'deny'
}

function expiresIn(approval: TuiApproval, now: number): string {
  const secs = Math.round((Date.parse(approval.expires_at) - now) / 1000)
  if (secs <= 0) return 'expiring'
  return secs >= 120 ? `${Math.round(secs / 60)}m left` : `${secs}s left`
}

/** Pending approvals with a cursor, the y/n confirmation, the last decision's outcome and details. */
export function ApprovalsPanel(props: {
  pending: Polled<TuiApproval[]>
  selected: number
  confirm: PendingDecision | null
  message: DecisionMessage | null
  detail: TuiApprovalDetail | null
  width: number
  now?: number
}) {
  const {pending, selected, confirm, message, detail} = props
  const now = props.now ?? Date.now()
  const approvals = pending.data ?? []
  const target = confirm ? approvals.find((a) => a.id === confirm.id) : undefined
  return (
    <Box flexDirection="column" borderStyle="round" borderColor={approvals.length ? 'yellow' : 'gray'} paddingX={1} width={props.width}>
      <Text bold>
        Approvals {pending.loaded ? `(${approvals.length} pending)` : '(loading)'}
        {pending.error ? <Text color="red"> {pending.error.code}</Text> : null}
      </Text>
      {approvals.length === 0 && pending.loaded ? <Text dimColor>nothing waits for a decision</Text> : null}
      {approvals.slice(0, MAX_ROWS).map((approval, i) => (
        <Text key={approval.id} inverse={i === selected} wrap="truncate-end">
          {i === selected ? '▸ ' : '  '}
          {approval.id} {approval.actor} <Text color="yellow">{approval.summary}</Text> · {expiresIn(approval, now)}
        </Text>
      ))}
      {approvals.length > MAX_ROWS ? <Text dimColor>… {approvals.length - MAX_ROWS} more (osmoda approval list)</Text> : null}
      {confirm ? (
        <Text color={confirm.decision === 'approve' ? 'green' : 'red'} bold wrap="truncate-end">
          {confirm.decision === 'approve' ? 'Approve' : 'Deny'} {confirm.id} ({target?.summary ?? 'no longer pending'}) for {target?.actor ?? '?'}? y = yes, n = no
        </Text>
      ) : null}
      {message ? <Text color={message.tone === 'ok' ? 'green' : 'red'} wrap="truncate-end">{message.text}</Text> : null}
      {detail ? <ApprovalDetailView detail={detail} /> : null}
    </Box>
  )
}

function ApprovalDetailView({detail}: {detail: TuiApprovalDetail}) {
  const body = JSON.stringify(detail.body, null, 2).split('\n')
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text bold>
        {detail.id}: {detail.operation} → {detail.daemon} {detail.method} {detail.path}
      </Text>
      <Text>reason: {detail.reason}</Text>
      <Text dimColor>
        digest {detail.digest.slice(0, 16)}… · asked by {detail.actor} at {detail.created_at} · expires {detail.expires_at}
      </Text>
      {body.slice(0, 12).map((line, i) => (
        <Text key={i} wrap="truncate-end">
          {line}
        </Text>
      ))}
      {body.length > 12 ? <Text dimColor>… {body.length - 12} more lines (osmoda approval show {detail.id})</Text> : null}
      <Text dimColor>a approve · d deny · esc close</Text>
    </Box>
  )
}
