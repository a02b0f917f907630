import {constants, readFileSync} from 'node:fs'
import {access, mkdtemp, readlink, realpath, rm, stat} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {basename, dirname, join} from 'node:path'
import {OsmodaError} from '../../lib/errors.js'
import {runProcess, type RunResult} from '../../lib/exec/run.js'
import {which} from '../../lib/exec/which.js'
import {systemdAvailable} from '../../lib/health-checks.js'

const DIFF_MAX_BYTES = 64 * 1024

/** The generation number N the profile points to (`<profile>-N-link`), or null without one. */
export async function profileGeneration(profile: string): Promise<number | null> {
  const target = await readlink(profile).catch(() => null)
  if (target === null) return null
  const match = new RegExp(`^${escapeRe(basename(profile))}-(\\d+)-link$`).exec(basename(target))
  return match ? Number(match[1]) : null
}

/** `realpath <link>`, or null when the link is missing or dangling. */
export async function resolveSystem(link: string): Promise<string | null> {
  return realpath(link).catch(() => null)
}

/** The system closure of generation N of the profile, or null when that generation does not exist. */
export async function generationSystem(profile: string, generation: number): Promise<string | null> {
  return resolveSystem(join(dirname(profile), `${basename(profile)}-${generation}-link`))
}

/** True when `system` holds an executable `bin/switch-to-configuration`. */
export async function hasActivation(system: string): Promise<boolean> {
  const file = join(system, 'bin', 'switch-to-configuration')
  const info = await stat(file).catch(() => null)
  if (!info?.isFile()) return false
  return access(file, constants.X_OK).then(
    () => true,
    () => false,
  )
}

/** True when this host can manage Nix profiles (`nix-env` on PATH). */
export async function nixAvailable(): Promise<boolean> {
  return (await which('nix-env')) !== null
}

/** What an activation or rebuild step did. */
export interface StepResult {
  ok: boolean
  exitCode: number | null
  detail: string
}

/** A short human account of a finished child. */
export function describeRun(result: RunResult): string {
  if (result.timedOut) return `timed out after ${result.durationMs} ms`
  if (result.aborted) return 'aborted'
  const tail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-3).join(' | ').slice(0, 400)
  return `exit ${result.exitCode ?? `signal ${result.signal}`}${tail ? `: ${tail}` : ''}`
}

/**
 * Where a running mutation can be found again after watch restarts: its transient unit, or its
 * process group with the leader's start time (so a recycled pid is never signalled).
 */
export interface MutationHandle {
  unit: string
  pid: number | null
  start: string | null
}

/**
 * Runs argv as a privileged mutation (SPEC §1.12): a transient unit `unit` via systemd-run when
 * systemd is PID 1 (it survives watch's restart and is killed as a cgroup at the deadline), else
 * directly in its own process group with the same deadline. `onStart` receives the handle to
 * persist before the mutation can have done anything.
 */
export async function runMutation(argv: string[], unit: string, timeoutMs: number, onStart?: (handle: MutationHandle) => void, signal?: AbortSignal): Promise<StepResult> {
  const secs = Math.ceil(timeoutMs / 1000)
  const full = systemdAvailable() ? ['systemd-run', '--quiet', '--collect', '--wait', `--unit=${unit}`, `--property=RuntimeMaxSec=${secs}`, '--', ...argv] : argv
  // The unit's RuntimeMaxSec ends the activation; our own deadline only stops waiting a little later.
  const result = await runProcess(full, {
    timeoutMs: timeoutMs + (full === argv ? 0 : 5000),
    maxOutputBytes: 16_384,
    signal,
    onSpawn: (pid) => onStart?.({unit, pid, start: processStart(pid)}),
  })
  return {ok: result.exitCode === 0 && !result.timedOut, exitCode: result.exitCode, detail: describeRun(result)}
}

/** `<system>/bin/switch-to-configuration <action>` as a mutation. */
export function switchToConfiguration(system: string, action: 'test' | 'boot', unit: string, timeoutMs: number, onStart?: (handle: MutationHandle) => void, signal?: AbortSignal): Promise<StepResult> {
  return runMutation([join(system, 'bin', 'switch-to-configuration'), action], unit, timeoutMs, onStart, signal)
}

/**
 * Stops a mutation a previous watch left running (its activation must not finish after the
 * rollback that replaces it): the transient unit under systemd, else the process group, SIGTERM
 * then SIGKILL after 2 s. Resolves with what it did.
 */
export async function stopMutation(handle: MutationHandle): Promise<string> {
  if (systemdAvailable()) {
    const result = await runProcess(['systemctl', 'stop', `${handle.unit}.service`], {timeoutMs: 30_000})
    return `systemctl stop ${handle.unit}: ${describeRun(result)}`
  }
  if (handle.pid === null || handle.start === null || processStart(handle.pid) !== handle.start) return 'not running'
  const alive = () => {
    try {
      process.kill(-(handle.pid as number), 0)
      return true
    } catch {
      return false
    }
  }
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-(handle.pid as number), sig)
    } catch {
      // Gone meanwhile.
    }
  }
  signal('SIGTERM')
  for (let waited = 0; waited < 2000 && alive(); waited += 100) await new Promise((resolve) => setTimeout(resolve, 100))
  if (alive()) signal('SIGKILL')
  return `stopped process group ${handle.pid}`
}

/** The start time (clock ticks since boot, /proc/<pid>/stat field 22) of a process, or null. */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name, which sits in parentheses and may contain spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null
  } catch {
    return null
  }
}

/** Builds a NixOS system (`nixos-rebuild build [--flake ref]`) in a temp dir; resolves with the store path. */
export async function buildSystem(flake: string | null, timeoutMs: number, signal?: AbortSignal): Promise<{system: string | null; detail: string}> {
  if (!(await which('nixos-rebuild'))) return {system: null, detail: 'nixos-rebuild is not installed on this host'}
  const dir = await mkdtemp(join(tmpdir(), 'osmoda-switch-build-'))
  try {
    const result = await runProcess(['nixos-rebuild', 'build', ...(flake ? ['--flake', flake] : [])], {cwd: dir, timeoutMs, maxOutputBytes: 65_536, signal})
    if (result.exitCode !== 0 || result.timedOut) return {system: null, detail: `nixos-rebuild build failed: ${describeRun(result)}`}
    const system = await resolveSystem(join(dir, 'result'))
    return system ? {system, detail: 'built'} : {system: null, detail: 'nixos-rebuild build left no result link'}
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}

/** Step 2 of SafeSwitch: the target system's store path (nothing on the host changes here). */
export async function buildTarget(
  source: {store_path: string} | {generation: number} | {flake: string} | {config: true},
  profile: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{system: string | null; detail: string}> {
  if ('store_path' in source) return {system: source.store_path, detail: 'given'}
  if ('generation' in source) {
    const system = await generationSystem(profile, source.generation)
    return system ? {system, detail: 'existing generation'} : {system: null, detail: `generation ${source.generation} no longer exists`}
  }
  return buildSystem('flake' in source ? source.flake : null, timeoutMs, signal)
}

/** `nix store diff-closures previous target`, capped at 64 KiB. */
export async function diffClosures(previous: string, target: string, timeoutMs: number): Promise<string> {
  if (!(await which('nix'))) return 'diff unavailable: the nix command is not installed'
  const result = await runProcess(['nix', '--extra-experimental-features', 'nix-command', 'store', 'diff-closures', previous, target], {timeoutMs, maxOutputBytes: DIFF_MAX_BYTES})
  if (result.exitCode !== 0) return `diff unavailable: ${describeRun(result)}`
  return result.stdout
}

/**
 * Makes the switch permanent in the profile: `nix-env -p <profile> --set <system>` or
 * `--switch-generation N`. Resolves with the generation the profile now points to.
 */
export async function setProfile(profile: string, to: {system: string} | {generation: number}, timeoutMs: number): Promise<{generation: number | null; detail: string; ok: boolean}> {
  const argv = 'system' in to ? ['nix-env', '-p', profile, '--set', to.system] : ['nix-env', '-p', profile, '--switch-generation', String(to.generation)]
  const result = await runProcess(argv, {timeoutMs, maxOutputBytes: 16_384})
  if (result.exitCode !== 0 || result.timedOut) return {ok: false, generation: null, detail: `${argv.slice(0, 4).join(' ')} failed: ${describeRun(result)}`}
  return {ok: true, generation: await profileGeneration(profile), detail: 'profile updated'}
}

/** The error for a nixos target on a host that cannot switch. */
export function nixUnavailable(message: string, hint: string): OsmodaError {
  return new OsmodaError('NIX_UNAVAILABLE', message, {hint})
}

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
