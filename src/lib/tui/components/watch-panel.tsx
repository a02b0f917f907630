import {Box, Text} from 'ink'
import type {Polled} from '../hooks/use-polled.js'
import type {SwitchSession, Watcher} from '../sources.js'

const MAX_WATCHERS = 5

const WATCHER_COLORS: Record<string, string> = {healthy: 'green', degraded: 'yellow', recovering: 'yellow', escalated: 'red', breaker_open: 'red'}

function remaining(iso: string | null, now: number): string {
  if (!iso) return ''
  const secs = Math.round((Date.parse(iso) - now) / 1000)
  return secs > 0 ? `, ${secs >= 120 ? `${Math.round(secs / 60)}m` : `${secs}s`} of probation left` : ', probation over'
}

function checkText(watcher: Watcher): string {
  const check = watcher.check as Record<string, unknown>
  const target = check.unit ?? check.url ?? (check.port !== undefined ? `${String(check.host ?? '127.0.0.1')}:${String(check.port)}` : check.command)
  return `${String(check.type)} ${String(target ?? '')}`
}

function unavailable(what: string, error: {code: string; message: string}) {
  return <Text dimColor>{error.code === 'DAEMON_UNAVAILABLE' ? `${what}: watch is not running` : `${what}: ${error.code}: ${error.message}`}</Text>
}

/** Active SafeSwitch sessions and the watchers, from watch. */
export function WatchPanel(props: {switches: Polled<SwitchSession[]>; watchers: Polled<Watcher[]>; width: number; now?: number}) {
  const now = props.now ?? Date.now()
  const switches = props.switches.data ?? []
  const watchers = props.watchers.data ?? []
  return (
    <Box flexDirection="column" borderStyle="round" borderColor="gray" paddingX={1} width={props.width}>
      <Text bold>SafeSwitch</Text>
      {props.switches.error && !props.switches.data ? unavailable('switches', props.switches.error) : null}
      {props.switches.data && switches.length === 0 ? <Text dimColor>no active switch</Text> : null}
      {switches.map((session) => (
        <Text key={session.id} wrap="truncate-end">
          <Text color="magenta">{session.status}</Text> {session.id} “{session.plan}” by {session.actor}
          {session.status === 'probation' ? `, ${session.consecutive_failures}/${session.failure_threshold} failing${remaining(session.probation_ends_at, now)}` : ''}
        </Text>
      ))}
      <Text bold>Watchers {props.watchers.data ? `(${watchers.length})` : ''}</Text>
      {props.watchers.error && !props.watchers.data ? unavailable('watchers', props.watchers.error) : null}
      {props.watchers.data && watchers.length === 0 ? <Text dimColor>no watchers</Text> : null}
      {watchers.slice(0, MAX_WATCHERS).map((watcher) => (
        <Text key={watcher.id} wrap="truncate-end">
          <Text color={WATCHER_COLORS[watcher.state] ?? 'white'}>{watcher.state.padEnd(12)}</Text> {watcher.name} · {checkText(watcher)}
          {watcher.last_result && !watcher.last_result.ok ? <Text dimColor> · {watcher.last_result.detail}</Text> : null}
        </Text>
      ))}
      {watchers.length > MAX_WATCHERS ? <Text dimColor>… {watchers.length - MAX_WATCHERS} more (osmoda watcher list)</Text> : null}
    </Box>
  )
}
