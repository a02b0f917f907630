import {runProcess} from '../../../lib/exec/run.js'
import {which} from '../../../lib/exec/which.js'
import {buildSandboxArgv, type SandboxUser, type SystemEntry} from './bwrap-args.js'

/** Whether sandboxes can run here; `reason` says why not (GET /health `sandbox{available, reason}`). */
export interface SandboxAvailability {
  available: boolean
  reason: string | null
}

/** What the probe needs to know about the host. */
export interface ProbeOptions {
  user: SandboxUser | null
  /** Describes the user for the reason text, e.g. "nobody 65534 (dev fallback …)". */
  userDescription: string
  system: readonly SystemEntry[]
  enabled: boolean
}

const PROBE_TIMEOUT_MS = 10_000

/**
 * Runs `true` in a sandbox exactly as a tier-2 run would start one (same user, same flags): it
 * fails when bwrap is missing, when setpriv is missing, or when the kernel refuses unprivileged
 * user namespaces (the error bwrap prints is kept in the reason).
 */
export async function probeSandbox(options: ProbeOptions): Promise<SandboxAvailability> {
  if (!options.enabled) return {available: false, reason: 'disabled in config (sandbox.enable = false)'}
  if ((await which('bwrap')) === null) return {available: false, reason: 'bubblewrap (bwrap) is not installed'}
  if (options.user && (await which('setpriv')) === null) return {available: false, reason: 'setpriv (util-linux) is not installed; it drops to the sandbox user'}
  const argv = buildSandboxArgv({user: options.user, scope: null, system: options.system, binds: [], helper: null, cwd: '/tmp', argv: ['true']})
  try {
    const result = await runProcess(argv, {timeoutMs: PROBE_TIMEOUT_MS, maxOutputBytes: 4096})
    if (result.exitCode === 0) return {available: true, reason: null}
    const said = result.stderr.trim().split('\n')[0] || (result.timedOut ? 'timed out' : `exit code ${result.exitCode ?? result.signal}`)
    return {available: false, reason: `bubblewrap could not start a sandbox as ${options.userDescription} (are unprivileged user namespaces disabled?): ${said}`}
  } catch (error) {
    return {available: false, reason: `bubblewrap could not be started: ${(error as Error).message}`}
  }
}

/** A probe that runs once and serves its answer from then on (reset on config reload). */
export function createSandboxProbe(options: () => ProbeOptions) {
  let cached: Promise<SandboxAvailability> | null = null
  return {
    check(): Promise<SandboxAvailability> {
      cached ??= probeSandbox(options())
      return cached
    },
    reset(): void {
      cached = null
    },
  }
}

/** The cached probe. */
export type SandboxProbe = ReturnType<typeof createSandboxProbe>
