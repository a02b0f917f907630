import {watchApi, type SwitchSession} from '../../../daemons/watch/api.js'
import type {Watcher} from '../../../daemons/watch/watcher-api.js'
import type {FleetProposal} from '../../../daemons/watch/fleet-api.js'
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

const fleetLine = (p: FleetProposal): string => {
  const votes = p.participants.map((x) => `${x.peer_id.slice(0, 8)}:${x.vote ?? 'pending'}/${x.status}`).join(', ')
  return `${p.id} ${p.role} ${p.phase}${p.reason ? ` (${p.reason.slice(0, 200)})` : ''}; quorum ${p.participants.filter((x) => x.vote === 'approve').length}/${p.quorum_required}; ${votes}`
}

/** fleet_propose: a quorum deploy across mesh peers (watch POST /fleet/propose). */
export const fleetPropose = defineTool({
  name: 'fleet_propose',
  title: 'Propose a fleet deploy',
  description:
    'Proposes one change to this node and the given mesh peers: each peer\'s operator (or agent, with approval) votes; when ' +
    'quorum_required = max(1, ceil(n × quorum_percent / 100)) participants approve (this node approves implicitly), this node runs its ' +
    'own SafeSwitch first as the canary, then every approving peer runs theirs; any rollback or failure rolls back every node still in ' +
    'probation. The target must be node-independent: {"type":"nixos","source":{"flake":"ref#{hostname}"}} ({hostname} is replaced ' +
    'per node) or {"type":"commands","apply":[…],"revert":[…]}. Voting ends after timeout_secs. Follow it with fleet_status. Always ' +
    'needs the operator\'s approval: on APPROVAL_REQUIRED ask them, then repeat the call with approval_id.',
  toolset: 'watch',
  route: watchApi.fleetPropose,
  annotations: {readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true},
  summarize: (p) => `${fleetLine(p)}; follow it with fleet_status ${p.id}`,
  run: (clients, args) => clients.watch.fleetPropose(args),
})

/** fleet_status: one proposal (watch GET /fleet/{id}). */
export const fleetStatus = defineTool({
  name: 'fleet_status',
  title: 'Fleet deploy status',
  description:
    'One fleet proposal: phase (voting, executing, committed, rolled_back, aborted), this node\'s role, the quorum, and every ' +
    'participant\'s vote, status and switch id. It changes nothing.',
  toolset: 'watch',
  route: watchApi.fleetGet,
  annotations: READ_ONLY,
  summarize: fleetLine,
  run: (clients, args) => clients.watch.fleetGet(args),
})

/** fleet_vote: this node's vote on a peer's proposal (watch POST /fleet/{id}/vote). */
export const fleetVote = defineTool({
  name: 'fleet_vote',
  title: 'Vote on a fleet deploy',
  description:
    'Votes on a fleet proposal that another node sent here; the vote goes to the proposer. approve=true lets the change run on this ' +
    'node after the canary and needs the operator\'s approval (on APPROVAL_REQUIRED ask them, then repeat with approval_id); ' +
    'approve=false vetoes at once.',
  toolset: 'watch',
  route: watchApi.fleetVote,
  annotations: {readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true},
  summarize: fleetLine,
  run: (clients, args) => clients.watch.fleetVote(args),
})

/** fleet_rollback: roll an executing fleet deploy back (watch POST /fleet/{id}/rollback). */
export const fleetRollback = defineTool({
  name: 'fleet_rollback',
  title: 'Roll back a fleet deploy',
  description:
    'Rolls back an executing fleet deploy: on the proposer every node still in probation is told to roll back; on a participant this ' +
    'node rolls back and reports it, which rolls the whole fleet back.',
  toolset: 'watch',
  route: watchApi.fleetRollback,
  annotations: {readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true},
  summarize: fleetLine,
  run: (clients, args) => clients.watch.fleetRollback(args),
})

/** The watch toolset (SafeSwitch, watchers, fleet). */
export const WATCH_TOOLS: readonly AnyTool[] = [
  safeSwitchBegin,
  safeSwitchStatus,
  safeSwitchCommit,
  safeSwitchRollback,
  safeSwitchList,
  watcherAdd,
  watcherList,
  fleetPropose,
  fleetStatus,
  fleetVote,
  fleetRollback,
]
