import {Box, Text} from 'ink'
import {formatRss, formatUptime} from '../format.js'
import type {DaemonRow} from '../hooks/use-daemon-health.js'

function rowColor(row: DaemonRow): string {
  if (row.state === 'down') return 'red'
  if (row.state === 'unreachable') return 'magenta'
  return row.status === 'ok' ? 'green' : 'yellow'
}

function rowText(row: DaemonRow): string {
  if (row.state !== 'up') return `${row.daemon} ${row.state}`
  const status = row.status === 'ok' ? 'up' : `up ${row.status}`
  return `${row.daemon} ${status} ${formatUptime(row.uptime_secs ?? 0)} ${formatRss(row.rss_bytes)}`
}

/** One cell per daemon: state, uptime and resident memory; problems of degraded daemons below. */
export function Header({rows}: {rows: DaemonRow[] | null}) {
  if (!rows) return <Text dimColor>osmoda · asking the daemons…</Text>
  const troubled = rows.filter((r) => r.problem && r.state === 'up')
  return (
    <Box flexDirection="column">
      <Box flexWrap="wrap" columnGap={2}>
        <Text bold>osmoda</Text>
        {rows.map((row) => (
          <Text key={row.daemon} color={rowColor(row)}>
            {row.state === 'up' ? '●' : '○'} {rowText(row)}
          </Text>
        ))}
      </Box>
      {troubled.map((row) => (
        <Text key={row.daemon} color="yellow" wrap="truncate-end">
          {'  '}
          {row.daemon}: {row.problem}
        </Text>
      ))}
    </Box>
  )
}
