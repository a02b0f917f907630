// What every runtime child shares: the binary resolved on the child's PATH (so a missing one is a
// typed RUNTIME_NOT_FOUND before anything is spawned), the minimal env of SPEC §1.12 with HOME set
// to the workspace, and the privilege drop through setpriv (never spawn({uid})).
import {OsmodaError} from '../../../lib/errors.js'
import {minimalEnv, DEFAULT_PATH} from '../../../lib/exec/run.js'
import {which} from '../../../lib/exec/which.js'
import {resolveSandboxUser, systemdIsPid1} from '../../agentd/sandbox/host-env.js'
import {setprivPrefix, type SandboxUser} from '../../agentd/sandbox/bwrap-args.js'

/** The absolute path of a runtime binary, or RUNTIME_NOT_FOUND. */
export async function resolveRuntimeBinary(binary: string, path: string, label: string): Promise<string> {
  const found = await which(binary, {path})
  if (found !== null) return found
  throw new OsmodaError('RUNTIME_NOT_FOUND', `the ${label} runtime binary "${binary}" was not found${binary.includes('/') ? '' : ' on PATH'}`, {
    details: {binary},
    hint: `Install ${label} or set gateway runtimes.${label === 'openclaw' ? 'openclawPath' : 'claudeCodePath'} to its absolute path.`,
  })
}

/** PATH, LANG, TZ, HOME=workspace, then the run's additions (credential env last wins). */
export function runtimeEnv(workspaceDir: string, additions: Record<string, string>): Record<string, string> {
  return minimalEnv({HOME: workspaceDir, ...additions})
}

/** The child's PATH (what the binary is looked up on). */
export function runtimePath(env: Record<string, string>): string {
  return env.PATH ?? DEFAULT_PATH
}

/**
 * The argv prefix that runs the child as `runAs`: setpriv with the user's uid, primary group and
 * supplementary groups when we are root and the user exists; none otherwise (dev mode keeps the
 * invoking user, SPEC §1.12).
 */
export async function privilegeDropPrefix(runAs: string | null | undefined): Promise<string[]> {
  const user = resolveRunUser(runAs)
  if (user === null) return []
  const setpriv = await which('setpriv')
  if (setpriv === null) {
    throw new OsmodaError('RUNTIME_ERROR', `cannot run the runtime as ${runAs}: setpriv (util-linux) is not installed`, {hint: 'Install util-linux.'})
  }
  const [, ...rest] = setprivPrefix(user)
  return [setpriv, ...rest]
}

/** The user a run drops to: only when we are root and `runAs` exists; null keeps the invoking user. */
export function resolveRunUser(runAs: string | null | undefined): SandboxUser | null {
  if (!runAs || (process.getuid?.() ?? -1) !== 0) return null
  const resolved = resolveSandboxUser(runAs)
  return resolved.mode === 'configured' ? resolved.user : null
}

/**
 * `systemd-run --scope` with MemoryMax/TasksMax when a limit is set and systemd is PID 1 (the scope
 * execs the runtime in place, so its pid and process group stay ours); none otherwise.
 */
export async function scopePrefix(limits: {memoryMax?: string | null; tasksMax?: number | null}, systemd = systemdIsPid1()): Promise<string[]> {
  const properties: string[] = []
  if (limits.memoryMax) properties.push('-p', `MemoryMax=${limits.memoryMax}`)
  if (limits.tasksMax) properties.push('-p', `TasksMax=${limits.tasksMax}`)
  if (properties.length === 0 || !systemd) return []
  const systemdRun = await which('systemd-run')
  if (systemdRun === null) return []
  return [systemdRun, '--scope', '--quiet', '--collect', ...properties, '--']
}
