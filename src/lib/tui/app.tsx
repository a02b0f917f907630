import {Box, useApp, useStdin} from 'ink'
import {ApprovalsPanel} from './components/approvals-panel.js'
import {EventLog} from './components/event-log.js'
import {Header} from './components/header.js'
import {HelpOverlay} from './components/help-overlay.js'
import {StatusBar} from './components/status-bar.js'
import {WatchPanel} from './components/watch-panel.js'
import type {LogFilter} from './format.js'
import type {TailTiming} from './hooks/ledger-tail.js'
import {useApprovals} from './hooks/use-approvals.js'
import {useDaemonHealth} from './hooks/use-daemon-health.js'
import {useDashboardKeys} from './hooks/use-dashboard-keys.js'
import {useLedgerTail} from './hooks/use-ledger-tail.js'
import {useTerminalSize} from './hooks/use-terminal-size.js'
import {useWatchState} from './hooks/use-watch-state.js'
import type {TuiSources} from './sources.js'

/** Options of the dashboard (intervals are shortened by tests). */
export interface TuiAppProps {
  sources: TuiSources
  initialFilter?: LogFilter
  pollMs?: number
  backlog?: number
  timing?: Partial<TailTiming>
}

/** The dashboard: header, ledger log, approvals, SafeSwitch and watchers, status line, help. */
export function TuiApp(props: TuiAppProps) {
  const {sources} = props
  const {exit} = useApp()
  const {isRawModeSupported} = useStdin()
  const interactive = Boolean(isRawModeSupported)
  const {columns} = useTerminalSize()
  const health = useDaemonHealth(sources, props.pollMs)
  const tail = useLedgerTail(sources, {backlog: props.backlog, initialFilter: props.initialFilter, timing: props.timing})
  const approvals = useApprovals(sources, {intervalMs: props.pollMs, trigger: tail.approvalSeq})
  const watch = useWatchState(sources, {intervalMs: props.pollMs, trigger: tail.watchSeq})
  const ui = useDashboardKeys({tail, approvals, exit, active: interactive})

  // Never wider than the terminal: a box wider than the screen would wrap into garbage.
  const panelWidth = Math.max(20, columns)
  return (
    <>
      <EventLog lines={tail.lines} batch={tail.batch} width={columns} />
      <Box flexDirection="column" width={panelWidth}>
        <Header rows={health} />
        {ui.help ? (
          <HelpOverlay />
        ) : (
          <>
            <ApprovalsPanel pending={approvals.pending} selected={ui.selected} confirm={ui.confirm} message={approvals.message} detail={ui.detail} width={panelWidth} />
            <WatchPanel switches={watch.switches} watchers={watch.watchers} width={panelWidth} />
          </>
        )}
        <StatusBar state={tail.state} paused={tail.paused} held={tail.held} filter={tail.filter} prompt={ui.prompt} interactive={interactive} />
      </Box>
    </>
  )
}
