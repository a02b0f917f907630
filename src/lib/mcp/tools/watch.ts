import {watchApi, type SwitchSession} from '../../../daemons/watch/api.js'
import type {Watcher} from '../../../daemons/watch/watcher-api.js'
import {defineTool, type AnyTool} from '../define-tool.js'

const READ_ONLY = {readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false} as const

const line = (s: SwitchSession): string => {
  const failing = s.last_check_results.filter((r) => !r.ok).map((r) => r.detail)
  const when = s.status === 'probation' ? ` until ${s.probation_ends_at}` : s.ended_at ? ` at ${s.ended_at}` : ''
  const checks = s.last_check_at ? `; last check ${failing.length ? `FAILED (${failing.join('; ').slice(0, 200)})` : 'passed'}` : ''
  return `${s.id} ${s.status}${when}${s.reason ? ` (${s.reason.slice(0, 200)})` : ''}${checks}`
}

/** safe_switch_begin: a health-gated switch with automatic rollback (watch POST /switch/begin). */
export const safeSwitchBegin = defineTool({
  name: 'safe_switch_begin',
  title: 'Begin a SafeSwitch',
  description:
    'Applies a system change as a health-gated transaction: builds the target, activates it without touching the boot default, runs ' +
    'your health_checks (plus osmoda\'s own) every check_interval_secs for ttl_secs, and commits (new profile generation + boot default) ' +
    'only if they still pass at the end; after failure_threshold consecutive failures, a failed activation or a failing final check it ' +
    'activates the exact system that was running before. Targets: {"type":"nixos","source":{"store_path"|"generation"|"flake"|"config"}} ' +
    'or {"type":"commands","apply":[…],"revert":[…]} (absolute executables, argv only) for non-Nix changes. Use dry_run first for a diff. ' +
    'Returns the session at once (status "building"); follow it with safe_switch_status. Never run nixos-rebuild switch yourself. ' +
    'Always needs the operator\'s approval: on APPROVAL_REQUIRED ask them to approve, then repeat the call with approval_id.',
  toolset: 'watch',
  route: watchApi.switchBegin,
  annotations: {readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false},
  summarize: (s) => `${line(s)}; follow it with safe_switch_status ${s.id}`,
  run: (clients, args) => clients.watch.switchBegin(args),
})

/** safe_switch_status: one session (watch GET /switch/{id}). */
export const safeSwitchStatus = defineTool({
  name: 'safe_switch_status',
  title: 'SafeSwitch status',
  description:
    'One SafeSwitch session: status (building, built, activating, probation, committed, rolling_back, rolled_back, rollback_failed, ' +
    'failed), previous and target systems and generations, probation deadline, consecutive failures, the last check results with ' +
    'details, the dry-run diff and the reason it ended. It changes nothing.',
  toolset: 'watch',
  route: watchApi.switchGet,
  annotations: READ_ONLY,
  summarize: line,
  run: (clients, args) => clients.watch.switchGet(args),
})

/** safe_switch_commit: commit a session in probation now (watch POST /switch/{id}/commit). */
export const safeSwitchCommit = defineTool({
  name: 'safe_switch_commit',
  title: 'Commit a SafeSwitch now',
  description:
    'Ends probation early and makes the switch permanent (new profile generation and boot default). Only for a session in probation ' +
    'whose last check passed (else PRECONDITION_FAILED); otherwise the session commits by itself at the end of probation.',
  toolset: 'watch',
  route: watchApi.switchCommit,
  annotations: {readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false},
  summarize: line,
  run: (clients, args) => clients.watch.switchCommit(args),
})

/** safe_switch_rollback: roll a session back now (watch POST /switch/{id}/rollback). */
export const safeSwitchRollback = defineTool({
  name: 'safe_switch_rollback',
  title: 'Roll a SafeSwitch back',
  description:
    'Rolls a session in probation back to the exact system that ran before it and answers once that is done (status rolled_back, or ' +
    'rollback_failed with the problems, which also notifies the operator). Give a reason; it is ledgered.',
  toolset: 'watch',
  route: watchApi.switchRollback,
  annotations: {readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false},
  summarize: line,
  run: (clients, args) => clients.watch.switchRollback(args, {timeoutMs: 660_000}),
})

/** safe_switch_list: sessions newest first (watch GET /switch/list). */
export const safeSwitchList = defineTool({
  name: 'safe_switch_list',
  title: 'List SafeSwitch sessions',
  description: 'SafeSwitch sessions newest first, optionally only one status: `{switches, next_cursor}`. Use it to see what changed when. It changes nothing.',
  toolset: 'watch',
  route: watchApi.switchList,
  annotations: READ_ONLY,
  summarize: (page) => (page.switches.length ? page.switches.slice(0, 10).map(line).join(' | ') : 'no switch sessions'),
  run: (clients, args) => clients.watch.switchList(args),
})

const watcherLine = (w: Watcher): string =>
  `${w.id} ${w.name} ${w.state}${w.last_result ? `; last check ${w.last_result.ok ? 'passed' : `FAILED (${w.last_result.detail.slice(0, 200)})`}` : ''}` +
  `; ladder ${w.actions.map((a) => a.type).join(' → ')}`

/** watcher_add: an autopilot watcher with an escalation ladder (watch POST /watcher/add). */
export const watcherAdd = defineTool({
  name: 'watcher_add',
  title: 'Add a watcher',
  description:
    'Watches one health check on its own timer (interval_secs ±10 %) and climbs an escalation ladder while it keeps failing: each ' +
    'step waits an exponential back-off since the previous action; restart_service {unit} and command {command (absolute), args} ' +
    'repeat a few times before the next step; rollback_generation SafeSwitches to the previous generation once per episode; notify ' +
    '{message, severity} tells the operator. After the last step the watcher is escalated; passing for stable_secs makes it healthy ' +
    'again; too many actions in the breaker window stop all actions (circuit breaker). Omit actions for the default ladder (restart ' +
    'then notify for a systemd_unit check, notify otherwise). A watcher with restart, rollback or command steps, or a command check, ' +
    'needs the operator\'s approval (they run as root): on APPROVAL_REQUIRED ask them, then repeat the call with approval_id.',
  toolset: 'watch',
  route: watchApi.watcherAdd,
  annotations: {readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false},
  summarize: (w) => `added ${watcherLine(w)}`,
  run: (clients, args) => clients.watch.watcherAdd(args),
})

/** watcher_list: every watcher and its state (watch GET /watcher/list). */
export const watcherList = defineTool({
  name: 'watcher_list',
  title: 'List watchers',
  description:
    'Every watcher with its check, ladder, state (healthy, degraded, recovering, escalated, breaker_open), current step, consecutive ' +
    'failures, last result and last action, optionally only one state. It changes nothing.',
  toolset: 'watch',
  route: watchApi.watcherList,
  annotations: READ_ONLY,
  summarize: (page) => (page.watchers.length ? page.watchers.slice(0, 20).map(watcherLine).join(' | ') : 'no watchers'),
  run: (clients, args) => clients.watch.watcherList(args),
})

/** The watch toolset (SafeSwitch and watchers). */
export const WATCH_TOOLS: readonly AnyTool[] = [safeSwitchBegin, safeSwitchStatus, safeSwitchCommit, safeSwitchRollback, safeSwitchList, watcherAdd, watcherList]
