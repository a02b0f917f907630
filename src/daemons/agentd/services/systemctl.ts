import {OsmodaError} from '../../../lib/errors.js'

/** The properties `service_status` reads from `systemctl show`. */
export const SHOW_PROPERTIES = ['Id', 'Description', 'LoadState', 'ActiveState', 'SubState', 'UnitFileState', 'MainPID', 'MemoryCurrent', 'ActiveEnterTimestamp', 'NRestarts'] as const

/** A systemd unit name as `service_status` accepts it: no leading dash, so it can never be read as an option. */
export const UNIT_NAME_RE = /^[A-Za-z0-9_.:@\\][A-Za-z0-9_.:@\\-]{0,255}$/

/** One service unit's status (GET /service/status with `unit`), without its recent log. */
export interface UnitStatus {
  unit: string
  description: string
  load_state: string
  active_state: string
  sub_state: string
  enabled: string | null
  main_pid: number | null
  memory_bytes: number | null
  active_since: string | null
  n_restarts: number | null
}

/** `name` with `.service` appended when it names no unit type (`nginx` → `nginx.service`). */
export function normalizeUnitName(name: string): string {
  return /\.(service|socket|timer|target|mount|automount|path|slice|scope|swap|device)$/.test(name) ? name : `${name}.service`
}

/** argv of `systemctl show` for one unit: only the properties we parse, and `--` before the name. */
export function systemctlShowArgv(unit: string): string[] {
  return ['systemctl', 'show', '--no-pager', `--property=${SHOW_PROPERTIES.join(',')}`, '--', normalizeUnitName(unit)]
}

/** argv of `systemctl list-units` for every loaded service unit, in any state. */
export function systemctlListArgv(): string[] {
  return ['systemctl', 'list-units', '--type=service', '--all', '--no-legend', '--plain', '--no-pager']
}

/** argv of `systemctl is-active` for the given units (one state per line, in order). */
export function systemctlIsActiveArgv(units: readonly string[]): string[] {
  return ['systemctl', 'is-active', '--', ...units]
}

/**
 * `systemctl show` output as one property map per unit: `Key=Value` lines, units separated by a
 * blank line. A value keeps everything after the first `=` (descriptions may contain `=`).
 */
export function parseSystemctlShow(text: string): Record<string, string>[] {
  const units: Record<string, string>[] = []
  let current: Record<string, string> = {}
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (Object.keys(current).length) units.push(current)
      current = {}
      continue
    }
    const eq = line.indexOf('=')
    if (eq <= 0) continue
    current[line.slice(0, eq)] = line.slice(eq + 1)
  }
  if (Object.keys(current).length) units.push(current)
  return units
}

/**
 * A systemd timestamp as RFC 3339 UTC, or null when unset. systemd prints `Thu 2026-11-26 01:57:12
 * UTC` (we run children with TZ=UTC), `@<epoch secs>` with --timestamp=unix, and `n/a` or nothing.
 */
export function parseSystemdTimestamp(value: string | undefined): string | null {
  const text = value?.trim() ?? ''
  const unix = /^@(\d+)$/.exec(text)
  if (unix) return new Date(Number(unix[1]) * 1000).toISOString()
  const match = /^(?:[A-Z][a-z]{2} )?(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))? (UTC|GMT|Z)$/.exec(text)
  if (!match) return null
  const ms = match[3] ? Math.floor(Number(`0.${match[3]}`) * 1000) : 0
  const date = new Date(`${match[1]}T${match[2]}.${String(ms).padStart(3, '0')}Z`)
  return Number.isNaN(date.getTime()) ? null : date.toISOString()
}

// systemd prints the maximum uint64 (or "[not set]") for an unknown counter.
function counter(value: string | undefined): number | null {
  if (value === undefined || !/^\d+$/.test(value)) return null
  const n = Number(value)
  return n >= 2 ** 63 || !Number.isSafeInteger(n) ? null : n
}

/** One unit's properties as the fields of GET /service/status; NOT_FOUND for a unit systemd does not know. */
export function unitStatusFromShow(props: Record<string, string>, asked: string): UnitStatus {
  const load = props.LoadState ?? ''
  if (load === 'not-found' || load === '') {
    throw new OsmodaError('NOT_FOUND', `unit ${normalizeUnitName(asked)} is not known to systemd`, {
      details: {unit: normalizeUnitName(asked)},
      hint: 'List the units with service_status without `unit` (or system_query "services") and use an exact name.',
    })
  }
  const pid = counter(props.MainPID)
  return {
    unit: props.Id || normalizeUnitName(asked),
    description: props.Description ?? '',
    load_state: load,
    active_state: props.ActiveState ?? 'unknown',
    sub_state: props.SubState ?? 'unknown',
    enabled: props.UnitFileState ? props.UnitFileState : null,
    main_pid: pid === 0 ? null : pid,
    memory_bytes: counter(props.MemoryCurrent),
    active_since: parseSystemdTimestamp(props.ActiveEnterTimestamp),
    n_restarts: counter(props.NRestarts),
  }
}

/** The 503 of every route that needs systemd as PID 1 (SPEC §1.12), with what to do instead. */
export function systemdUnavailable(what: string, hint: string): OsmodaError {
  return new OsmodaError('SYSTEMD_UNAVAILABLE', `systemd is not PID 1 on this host (a container or CI?), so ${what} is not available`, {hint})
}
