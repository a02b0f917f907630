import {randomBytes} from 'node:crypto'

/** Seconds systemd lets a transient unit outlive our own deadline before it kills the cgroup. */
export const UNIT_GRACE_SECS = 2

/** Options of systemdRunArgv. */
export interface TransientUnitOptions {
  timeoutSecs: number
  cwd: string
  /** The child's whole environment: systemd starts units with the manager's, not ours. */
  env: Record<string, string>
  /** Unit name; default `osmoda-exec-<random>`. */
  unit?: string
}

/** A unique transient unit name for one host command. */
export function execUnitName(): string {
  return `osmoda-exec-${randomBytes(6).toString('hex')}`
}

/**
 * The systemd-run argv that runs an approved host command as a transient service (SPEC §1.12):
 * it survives an agentd restart, is killed as a cgroup (escaped grandchildren included) when
 * `RuntimeMaxSec` passes, and with `--wait --pipe` its exit status and output come back to us.
 * `RuntimeMaxSec` is our deadline plus a short grace, so our own kill normally comes first and the
 * unit can never outlive it by more than the grace. stdin is ours, which is /dev/null.
 */
export function systemdRunArgv(argv: readonly string[], options: TransientUnitOptions): string[] {
  const out = [
    'systemd-run',
    '--quiet',
    '--collect',
    '--wait',
    '--pipe',
    `--unit=${options.unit ?? execUnitName()}`,
    '--service-type=exec',
    '-p',
    `RuntimeMaxSec=${options.timeoutSecs + UNIT_GRACE_SECS}`,
    `--working-directory=${options.cwd}`,
  ]
  for (const [key, value] of Object.entries(options.env).sort(([a], [b]) => (a < b ? -1 : 1))) out.push(`--setenv=${key}=${value}`)
  out.push('--', ...argv)
  return out
}
