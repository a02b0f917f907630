import type {Watcher, WatcherAction} from '../../daemons/watch/watcher-api.js'
import type {HealthCheck} from '../health-checks.js'
import {UsageError} from '../errors.js'
import {renderTable} from './table.js'

/** A check in a few words. */
export function describeWatcherCheck(check: HealthCheck): string {
  switch (check.type) {
    case 'systemd_unit':
      return `unit ${check.unit}`
    case 'tcp_port':
      return `tcp ${check.host}:${check.port}`
    case 'http_get':
      return `GET ${check.url}`
    case 'command':
      return `${check.command} ${check.args.join(' ')}`.trim()
  }
}

/** A ladder step in a few words. */
export function describeAction(action: WatcherAction): string {
  switch (action.type) {
    case 'restart_service':
      return `restart ${action.unit}`
    case 'command':
      return `run ${`${action.command} ${action.args.join(' ')}`.trim()}`
    case 'rollback_generation':
      return 'roll back a generation'
    case 'notify':
      return `notify ${action.severity}`
  }
}

/** A watcher as the CLI prints it for humans (with its recent results when given). */
export function renderWatcher(w: Watcher & {results?: {ok: boolean; detail: string; at: string; state: string}[]}): string {
  const lines = [
    `${w.id}  ${w.name}  ${w.state}`,
    `check     ${describeWatcherCheck(w.check)} every ${w.interval_secs} s (stable after ${w.stable_secs} s)`,
    `ladder    ${w.actions.map((a, i) => `${i === w.step && w.state !== 'healthy' ? '>' : ''}${describeAction(a)}`).join(' → ')}`,
    `failures  ${w.consecutive_failures} in a row; ${w.actions_in_window} action(s) in the breaker window`,
  ]
  if (w.last_result) lines.push(`last check ${w.last_result.at} ${w.last_result.ok ? 'ok' : 'FAIL'}: ${w.last_result.detail}`)
  if (w.last_action) lines.push(`last action ${w.last_action.at} ${w.last_action.type} ${w.last_action.ok ? 'ok' : 'failed'}`)
  lines.push(`added ${w.created_at} by ${w.actor}`)
  if (w.results?.length) lines.push(renderTable(w.results.map((r) => ({at: r.at, ok: r.ok ? 'ok' : 'FAIL', state: r.state, detail: r.detail})), ['at', 'ok', 'state', 'detail']))
  return lines.join('\n')
}

/** Parses a JSON flag value, or throws a usage error naming the flag. */
export function jsonFlag(text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new UsageError(`${what} is not valid JSON: ${(error as Error).message}`)
  }
}
