import {connect} from 'node:net'
import {cpus, hostname} from 'node:os'
import {join} from 'node:path'
import type {z} from 'zod'
import {DAEMON_NAMES} from '../../../lib/paths.js'
import {runProcess} from '../../../lib/exec/run.js'
import {systemctlIsActiveArgv} from '../services/systemctl.js'
import {systemdAvailable} from '../system/discover.js'
import {readDisks, readLoadAverage, readMemory, readUptime} from '../system/host.js'
import {listListeningPorts} from '../system/sockets.js'
import type {SafetyHealth, SafetyStatus} from './api.js'
import {DEFAULT_SYSTEM_PROFILE, readGenerationState} from './generations.js'

/** The osmoda units, `osmoda-<name>.service`, in the catalogue order. */
export const OSMODA_UNITS = DAEMON_NAMES.map((name) => `osmoda-${name}.service`)

const SYSTEMCTL_TIMEOUT_MS = 10_000
const SOCKET_PROBE_MS = 1000

/** `systemctl is-active a b c` output (one state per line, in argv order) as `osmoda-<name>` → state. */
export function parseIsActive(text: string, units: readonly string[]): Record<string, string> {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '')
  const states: Record<string, string> = {}
  units.forEach((unit, i) => {
    states[unit.replace(/\.service$/, '')] = lines[i] ?? 'unknown'
  })
  return states
}

/** True when something accepts connections on the Unix socket at `path`. */
export function socketAnswers(path: string, timeoutMs = SOCKET_PROBE_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path)
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/**
 * Each osmoda service's state: systemd's active_state when systemd is PID 1, otherwise whether the
 * daemon's socket answers (`osmoda up` supervises the daemons there, and they have no units).
 */
export async function readOsmodaServices(options: {systemd: boolean; runDir: string; signal?: AbortSignal}): Promise<{services: Record<string, string>; source: 'systemd' | 'sockets'}> {
  if (options.systemd) {
    // is-active exits non-zero when any unit is not active; its stdout still has one line per unit.
    const result = await runProcess(systemctlIsActiveArgv(OSMODA_UNITS), {timeoutMs: SYSTEMCTL_TIMEOUT_MS, signal: options.signal}).catch(() => null)
    return {services: parseIsActive(result?.stdout ?? '', OSMODA_UNITS), source: 'systemd'}
  }
  const states = await Promise.all(DAEMON_NAMES.map(async (name) => [`osmoda-${name}`, (await socketAnswers(join(options.runDir, `${name}.sock`))) ? 'active' : 'inactive'] as const))
  return {services: Object.fromEntries(states), source: 'sockets'}
}

/** The health subset read straight from /proc and statfs (the `ps`/`df`/`free` of the fallback). */
export async function readLocalHealth(): Promise<z.input<typeof SafetyHealth>> {
  const [memory, load, uptime, disks] = await Promise.all([readMemory(), readLoadAverage(), readUptime(), readDisks()])
  return {
    status: 'unknown',
    problems: ['agentd is unreachable: these facts were read locally'],
    hostname: hostname(),
    cpu_count: cpus().length,
    ...memory,
    load_average: load,
    uptime: uptime.uptime_secs,
    disks: disks.map(({mount_point, filesystem, total, used, available}) => ({mount_point, filesystem, total, used, available})),
  }
}

/**
 * The safety status without agentd (SPEC §3 safety_status, §4 `osmoda safety status`): host facts,
 * listening ports, the osmoda services and the generations, all read on this host.
 */
export async function readLocalSafetyStatus(options: {runDir: string; profile?: string; systemd?: boolean}): Promise<z.input<typeof SafetyStatus>> {
  const systemd = options.systemd ?? (await systemdAvailable())
  const [health, services, generation, ports] = await Promise.all([
    readLocalHealth(),
    readOsmodaServices({systemd, runDir: options.runDir}),
    readGenerationState(options.profile ?? DEFAULT_SYSTEM_PROFILE),
    listListeningPorts().catch(() => []),
  ])
  return {
    source: 'local',
    agentd: 'unreachable',
    health,
    services: services.services,
    services_source: services.source,
    generation: generation === null ? null : {current: generation.current, previous: generation.previous, booted: generation.booted},
    ledger: null,
    pending_approvals: null,
    listening_ports: ports.filter((p) => p.proto === 'tcp'),
  }
}
