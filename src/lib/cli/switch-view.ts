import type {SwitchSession} from '../../daemons/watch/api.js'
import {renderTable} from './table.js'

/** A SafeSwitch session as the CLI prints it for humans. */
export function renderSwitch(s: SwitchSession): string {
  const lines = [`${s.id}  ${s.status}  ${s.plan}`, `started ${s.started_at} by ${s.actor}${s.ended_at ? `, ended ${s.ended_at}` : ''}`]
  lines.push(`previous  generation ${s.previous_generation ?? '-'}  ${s.previous_system ?? '-'}`)
  lines.push(`target    generation ${s.target_generation ?? '-'}  ${s.target_system ?? '-'}`)
  if (s.probation_ends_at) lines.push(`probation until ${s.probation_ends_at} (grace ${s.grace_secs} s, every ${s.check_interval_secs} s, ${s.consecutive_failures}/${s.failure_threshold} failures)`)
  if (s.reason) lines.push(`reason    ${s.reason}`)
  if (s.last_check_results.length) {
    const rows = s.last_check_results.map((r) => ({check: describeCheck(r.check), ok: r.ok ? 'ok' : 'FAIL', ms: r.duration_ms, detail: r.detail}))
    lines.push(`last check ${s.last_check_at}`, renderTable(rows, ['check', 'ok', 'ms', 'detail']))
  }
  if (s.diff) lines.push('diff:', s.diff)
  return lines.join('\n')
}

function describeCheck(check: SwitchSession['last_check_results'][number]['check']): string {
  switch (check.type) {
    case 'systemd_unit':
      return `unit ${check.unit}`
    case 'tcp_port':
      return `tcp ${check.host}:${check.port}`
    case 'http_get':
      return `GET ${check.url}`
    case 'command':
      return `${check.command} ${check.args.join(' ')}`.trim()
    case 'daemon_health':
      return `${check.daemon} /health`
  }
}
