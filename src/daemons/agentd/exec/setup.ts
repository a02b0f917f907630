import {join} from 'node:path'
import type {Db} from '../../../lib/db/open.js'
import type {Ledger} from '../../../lib/ledger/ledger.js'
import type {OsmodaPaths} from '../../../lib/paths.js'
import type {Gate} from '../approvals/types.js'
import {expandStatePath} from '../hands-config.js'
import {systemdAvailable} from '../system/discover.js'
import {createExecRateLimiter} from './rate-limit.js'
import {probeSandbox, type SandboxProbe} from './sandbox.js'
import {createExecService, type ExecService, type ExecSettings} from './service.js'
import type {PathPolicy} from '../files/path-policy.js'

/** How long a failed sandbox probe is trusted before bwrap is tried again. */
const FAILED_PROBE_TTL_MS = 60_000

/** What agentd's main hands to the exec feature. */
export interface AgentdExecDeps {
  paths: OsmodaPaths
  ledger: Ledger
  db: Db
  gate: Gate
  settings: () => ExecSettings
  /** Where backups are written: they hold copies of the state, so the sandbox must not read them. */
  backupDir: () => string
  /** The file tools' path policy, applied to an agent's cwd. */
  cwdPolicy?: () => PathPolicy
}

/**
 * The shell_exec service as agentd runs it: masks are `exec.maskedPaths` plus osmoda's own run,
 * state, secrets and backup dirs (in dev mode these live outside the SPEC's default paths, e.g.
 * in /tmp or $HOME, so the defaults alone would not hide them); the sandbox probe result is kept
 * (a failure only for a minute, so installing bwrap needs no restart).
 */
export function createAgentdExec(deps: AgentdExecDeps): ExecService {
  let probe: {at: number; result: Promise<SandboxProbe>} | null = null
  const cachedProbe = (): Promise<SandboxProbe> => {
    if (probe === null || Date.now() - probe.at > FAILED_PROBE_TTL_MS) {
      const result = probeSandbox()
      probe = {at: Date.now(), result}
      void result.then((found) => {
        if (found.available && probe?.result === result) probe = {at: Number.POSITIVE_INFINITY, result}
      })
    }
    return probe.result
  }
  let systemd: Promise<boolean> | null = null
  return createExecService({
    gate: deps.gate,
    ledger: deps.ledger,
    rate: createExecRateLimiter(deps.db),
    settings: deps.settings,
    maskPatterns: () => [
      ...deps.settings().maskedPaths.map((path) => expandStatePath(path, deps.paths)),
      deps.paths.runDir,
      deps.paths.stateDir,
      join(deps.paths.configDir, 'secrets'),
      deps.backupDir(),
    ],
    probeSandbox: cachedProbe,
    systemd: () => (systemd ??= systemdAvailable()),
    cwdPolicy: deps.cwdPolicy,
  })
}
