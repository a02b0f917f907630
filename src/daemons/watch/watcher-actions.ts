import {readdir} from 'node:fs/promises'
import {basename, dirname} from 'node:path'
import {runProcess} from '../../lib/exec/run.js'
import {which} from '../../lib/exec/which.js'
import {systemdAvailable, type HealthCheck} from '../../lib/health-checks.js'
import type {WatchConfig} from './config.js'
import {profileGeneration} from './nix.js'
import type {Watcher, WatcherAction} from './watcher-api.js'
import type {WatcherPrivate} from './watcher-store.js'

/** What `rollback_generation` needs from SafeSwitch. */
export interface RollbackPort {
  /** The session holding the one SafeSwitch slot, if any. */
  activeSwitch(): {id: string; status: string} | null
  /** The generation before the one the system profile points to, or null when there is none. */
  previousGeneration(): Promise<number | null>
  /** Begins a SafeSwitch session to generation N; resolves with its id. */
  begin(generation: number, plan: string, actor: string): Promise<string>
}

/** What one action did. */
export interface ActionOutcome {
  ok: boolean
  detail: string
  /** The action did not run (rollback while another switch is active, or already done this episode). */
  skipped?: boolean
}

/** backoff(k) = min(initialSecs × factor^k, maxSecs), in seconds (SPEC §2.3). */
export function backoffSecs(k: number, backoff: WatchConfig['watcher']['backoff']): number {
  return Math.min(backoff.initialSecs * backoff.factor ** k, backoff.maxSecs)
}

/** The argv that restarts a systemd unit (argv only; `--` ends options so a unit name is never a flag). */
export function systemctlRestartArgv(unit: string): string[] {
  return ['systemctl', 'restart', '--no-block', '--', unit]
}

/** The default ladder (SPEC §2.3): systemd_unit → [restart_service(unit), notify(critical)], others → [notify(warning)]. */
export function defaultLadder(check: HealthCheck, name: string): WatcherAction[] {
  if (check.type === 'systemd_unit') {
    return [
      {type: 'restart_service', unit: check.unit},
      {type: 'notify', message: `watcher ${name}: ${check.unit} is still failing after restarts`, severity: 'critical'},
    ]
  }
  return [{type: 'notify', message: `watcher ${name}: check is failing`, severity: 'warning'}]
}

/** True when adding this watcher needs the operator's approval for an agent (SPEC §1.6, §2.3 Security). */
export function addNeedsApproval(check: HealthCheck, actions: readonly WatcherAction[]): boolean {
  return check.type === 'command' || actions.some((a) => a.type !== 'notify')
}

/** The generation below `current` among `<profile>-N-link` entries, or null. */
export async function previousGeneration(profile: string): Promise<number | null> {
  const current = await profileGeneration(profile)
  if (current === null) return null
  const prefix = `${basename(profile)}-`
  let entries: string[]
  try {
    entries = await readdir(dirname(profile))
  } catch {
    return null
  }
  const numbers = entries
    .filter((e) => e.startsWith(prefix) && e.endsWith('-link'))
    .map((e) => Number(e.slice(prefix.length, -'-link'.length)))
    .filter((n) => Number.isInteger(n) && n > 0 && n < current)
  return numbers.length ? Math.max(...numbers) : null
}

/** What running an action needs from the service. */
export interface ActionDeps {
  settings: () => WatchConfig
  rollback: RollbackPort
  event: (type: string, actor: string, payload: Record<string, unknown>) => unknown
  /** Aborted when the service stops: a running restart or command is killed. */
  signal: AbortSignal
}

/** Runs one ladder step of a watcher (argv only through src/lib/exec; rollback_generation once per episode). */
export async function runWatcherAction(deps: ActionDeps, watcher: Watcher, secret: WatcherPrivate, action: WatcherAction): Promise<ActionOutcome> {
  const config = deps.settings()
  switch (action.type) {
    case 'restart_service': {
      if (!systemdAvailable()) return {ok: false, detail: `systemd unavailable: cannot restart ${action.unit} (systemd is not PID 1 on this host)`}
      const result = await runProcess(systemctlRestartArgv(action.unit), {timeoutMs: config.checkTimeouts.systemd_unit * 1000, signal: deps.signal, maxOutputBytes: 4096})
      if (result.exitCode === 0) return {ok: true, detail: `restarted ${action.unit}`}
      return {ok: false, detail: `systemctl restart ${action.unit}: ${result.timedOut ? 'timed out' : `exit ${result.exitCode ?? result.signal}: ${result.stderr.trim().slice(-300)}`}`}
    }
    case 'command': {
      if (!(await which(action.command))) return {ok: false, detail: `${action.command} does not exist or is not executable`}
      const timeoutMs = (action.timeout_secs ?? config.checkTimeouts.command) * 1000
      const result = await runProcess([action.command, ...action.args], {timeoutMs, signal: deps.signal, maxOutputBytes: 4096})
      if (result.timedOut) return {ok: false, detail: `${action.command} timed out after ${timeoutMs} ms`}
      if (result.exitCode === 0) return {ok: true, detail: `${action.command}: exit 0`}
      const tail = (result.stderr.trim() || result.stdout.trim()).split('\n').at(-1) ?? ''
      return {ok: false, detail: `${action.command}: exit ${result.exitCode ?? result.signal}${tail ? `: ${tail.slice(0, 300)}` : ''}`}
    }
    case 'rollback_generation': {
      if (secret.rollback_done) return {ok: false, skipped: true, detail: 'skipped: rollback_generation already ran in this episode'}
      const active = deps.rollback.activeSwitch()
      if (active) return {ok: false, skipped: true, detail: `skipped: switch ${active.id} is ${active.status}; one SafeSwitch session runs at a time`}
      const generation = await deps.rollback.previousGeneration()
      secret.rollback_done = true
      if (generation === null) return {ok: false, detail: `no generation before the current one in ${config.systemProfile}`}
      try {
        const switchId = await deps.rollback.begin(generation, `watcher ${watcher.name}: roll back to generation ${generation} (${watcher.last_result?.detail ?? 'check failing'})`.slice(0, 500), `watch:watcher:${watcher.id}`)
        return {ok: true, detail: `began switch ${switchId} to generation ${generation}`}
      } catch (error) {
        return {ok: false, detail: `could not begin a switch to generation ${generation}: ${(error as Error).message}`.slice(0, 500)}
      }
    }
    case 'notify':
      deps.event('notification.requested', 'watch', {source: 'watch', severity: action.severity, title: `watcher ${watcher.name} (${watcher.id})`, message: `${action.message}: ${watcher.last_result?.detail ?? ''}`.slice(0, 2000)})
      return {ok: true, detail: `notified (${action.severity})`}
  }
}
