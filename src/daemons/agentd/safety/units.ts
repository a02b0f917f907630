/** Units a panic stops, in this order, before the gateway (SPEC §2.1 Safety); agentd stays up. */
export const PANIC_UNITS = ['routines', 'watch', 'teachd', 'mcpd', 'voice', 'mesh', 'keyd', 'egress'].map((name) => `osmoda-${name}.service`)

/** Stopped last, so the agent's own request through the gateway is answered first. */
export const GATEWAY_UNIT = 'osmoda-gateway.service'

/** Seconds before a safety restart restarts the gateway. */
export const RESTART_DELAY_SECS = 2

/** Deadlines of the transient units (RuntimeMaxSec, SPEC §1.12). */
export const ROLLBACK_DEADLINE_SECS = 900
export const STOP_DEADLINE_SECS = 120

/** A transient unit name for one safety action, unique per call. */
export function safetyUnitName(action: 'rollback' | 'panic-stop' | 'panic-gateway' | 'restart', at: number): string {
  return `osmoda-safety-${action}-${at.toString(36)}`
}

/**
 * `systemd-run` argv of a transient service that runs `command` (SPEC §1.12): collected when done,
 * killed as a cgroup at its deadline, and independent of agentd, so it survives agentd's restart
 * during an activation. `--wait` makes systemd-run return the command's own exit status.
 */
export function transientUnitArgv(options: {unit: string; deadlineSecs: number; command: readonly string[]}): string[] {
  return ['systemd-run', '--quiet', '--collect', '--wait', `--unit=${options.unit}`, `--property=RuntimeMaxSec=${options.deadlineSecs}`, '--', ...options.command]
}

// Positional parameters, not interpolation: the profile path and number never meet the shell parser.
const ROLLBACK_SCRIPT = 'set -e; "$1" -p "$2" --switch-generation "$3"; exec "$2/bin/switch-to-configuration" switch'

/**
 * The rollback itself: switch the profile to generation `generation` by its explicit number, then
 * activate it. One command, so both steps run in the same unit even when the activation restarts agentd.
 */
export function rollbackCommand(options: {nixEnv: string; profile: string; generation: number}): string[] {
  if (!Number.isSafeInteger(options.generation) || options.generation < 1) throw new RangeError(`bad generation ${options.generation}`)
  return ['/bin/sh', '-c', ROLLBACK_SCRIPT, 'osmoda-rollback', options.nixEnv, options.profile, String(options.generation)]
}

/** `systemctl stop` of the given units (they stop as one job transaction; the call waits for it). */
export function stopUnitsCommand(units: readonly string[]): string[] {
  return ['systemctl', 'stop', '--', ...units]
}

/** `systemd-run` argv of a transient timer that restarts the gateway after RESTART_DELAY_SECS. */
export function restartGatewayArgv(unit: string): string[] {
  return [
    'systemd-run',
    '--quiet',
    '--collect',
    `--unit=${unit}`,
    `--on-active=${RESTART_DELAY_SECS}`,
    '--timer-property=AccuracySec=100ms',
    `--property=RuntimeMaxSec=${STOP_DEADLINE_SECS}`,
    '--',
    'systemctl',
    'restart',
    GATEWAY_UNIT,
  ]
}
