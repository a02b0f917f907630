import {existsSync, lstatSync, readFileSync, readlinkSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {randomBytes} from 'node:crypto'
import {runProcess, type RunOptions, type RunResult} from '../../../lib/exec/run.js'
import type {Action} from '../api.js'
import type {ActionContext, ActionOutcome} from './context.js'

/** How host-side actions reach the machine; tests point them at a fake root. */
export interface HostDeps {
  root: string
  systemd: () => boolean
  run: (argv: readonly string[], options: RunOptions) => Promise<RunResult>
}

/** The real host. */
export function realHost(): HostDeps {
  return {root: '/', systemd: () => existsSync('/run/systemd/system'), run: runProcess}
}

/** Seconds a transient unit may outlive our deadline before systemd kills its cgroup. */
const UNIT_GRACE_SECS = 2

/**
 * The systemd-run argv of a routine command (SPEC §1.12): a transient service that survives a
 * routines restart, is killed as a cgroup at `RuntimeMaxSec`, and with `--wait --pipe` returns the
 * command's exit status and output. systemd starts units with its own environment, so ours is
 * passed explicitly.
 */
export function transientUnitArgv(argv: readonly string[], options: {timeoutSecs: number; env: Record<string, string>; unit?: string}): string[] {
  const out = ['systemd-run', '--quiet', '--collect', '--wait', '--pipe', `--unit=${options.unit ?? `osmoda-routine-${randomBytes(6).toString('hex')}`}`, '--service-type=exec', '-p', `RuntimeMaxSec=${options.timeoutSecs + UNIT_GRACE_SECS}`, '--working-directory=/']
  for (const [key, value] of Object.entries(options.env).sort(([a], [b]) => (a < b ? -1 : 1))) out.push(`--setenv=${key}=${value}`)
  return [...out, '--', ...argv]
}

/** command: argv only, through src/lib/exec (a transient unit under systemd, a direct group spawn otherwise). */
export async function runCommand(action: Extract<Action, {type: 'command'}>, ctx: ActionContext, host: HostDeps): Promise<ActionOutcome> {
  const argv = [action.command, ...action.args]
  const timeoutSecs = Math.ceil(ctx.timeoutMs / 1000)
  const viaSystemd = host.systemd()
  const full = viaSystemd ? transientUnitArgv(argv, {timeoutSecs, env: {PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', TZ: 'UTC'}}) : argv
  const result = await host.run(full, {timeoutMs: ctx.timeoutMs, signal: ctx.signal, maxOutputBytes: ctx.config.outputCapBytes, cwd: '/'})
  const output = {argv, via: viaSystemd ? 'systemd-run' : 'direct', exit_code: result.exitCode, signal: result.signal, stdout: result.stdout, stderr: result.stderr, truncated: result.stdoutTruncated || result.stderrTruncated, duration_ms: result.durationMs}
  if (result.timedOut) return {status: 'error', output, error: `timed out after ${timeoutSecs} s`}
  if (result.exitCode !== 0) return {status: 'error', output, error: `exited with ${result.exitCode ?? result.signal}`}
  return {status: 'ok', output}
}

function lstatMaybe(path: string) {
  try {
    return lstatSync(path)
  } catch {
    return null
  }
}

function readMaybe(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return null
  }
}

/**
 * generation_check: system state, failed units and configuration drift. Each source that does not
 * exist on this host (systemd not PID 1, no NixOS system profile, no /etc/nixos git) is reported
 * as unavailable with the reason, not guessed.
 */
export async function generationCheck(ctx: ActionContext, host: HostDeps): Promise<ActionOutcome> {
  const findings: string[] = []
  const output: Record<string, unknown> = {}
  if (host.systemd()) {
    const state = await host.run(['systemctl', 'is-system-running'], {timeoutMs: 10_000, signal: ctx.signal})
    output.system_state = state.stdout.trim() || 'unknown'
    const failed = await host.run(['systemctl', 'list-units', '--failed', '--plain', '--no-legend', '--no-pager'], {timeoutMs: 10_000, signal: ctx.signal})
    const units = failed.stdout.split('\n').map((line) => line.trim().split(/\s+/)[0]).filter((u): u is string => Boolean(u))
    output.failed_units = units
    if (output.system_state !== 'running') findings.push(`system is ${String(output.system_state)}`)
    if (units.length) findings.push(`failed units: ${units.join(', ')}`)
  } else {
    output.system_state = 'unavailable: systemd is not PID 1'
    output.failed_units = null
  }
  const profile = join(host.root, 'nix/var/nix/profiles/system')
  const current = join(host.root, 'run/current-system')
  const link = lstatMaybe(profile)
  if (link?.isSymbolicLink()) {
    const target = readlinkSync(profile)
    output.generation = Number(/system-(\d+)-link/.exec(target)?.[1] ?? NaN) || target
    const revision = readMaybe(join(current, 'configuration-revision'))
    output.configuration_revision = revision
    const gitHead = await gitHeadOf(join(host.root, 'etc/nixos'), host, ctx.signal)
    output.etc_nixos_head = gitHead
    if (revision && gitHead && revision !== gitHead) findings.push(`drift: running ${revision.slice(0, 12)}, /etc/nixos is at ${gitHead.slice(0, 12)}`)
    const lock = join(host.root, 'etc/nixos/flake.lock')
    if (existsSync(lock)) {
      // The profile link is replaced at every switch, so its mtime is the generation's.
      const newer = statSync(lock).mtimeMs > link.mtimeMs
      output.flake_lock_newer = newer
      if (newer) findings.push('flake.lock is newer than the current generation')
    }
  } else {
    output.generation = null
    output.nix = `unavailable: no NixOS system profile at ${profile}`
  }
  if (findings.length) ctx.notify('warning', 'NixOS generation check', findings.join('; '))
  return {status: 'ok', output: {...output, findings}}
}

async function gitHeadOf(dir: string, host: HostDeps, signal: AbortSignal): Promise<string | null> {
  if (!existsSync(join(dir, '.git'))) return null
  const result = await host.run(['git', '-C', dir, 'rev-parse', 'HEAD'], {timeoutMs: 10_000, signal}).catch(() => null)
  return result?.exitCode === 0 ? result.stdout.trim() : null
}
