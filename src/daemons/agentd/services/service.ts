import {readdir} from 'node:fs/promises'
import {join} from 'node:path'
import {OsmodaError} from '../../../lib/errors.js'
import {runProcess, type RunOptions, type RunResult} from '../../../lib/exec/run.js'
import {parseServiceUnits} from '../system/query.js'
import type {ServiceUnit} from '../system/query-schema.js'
import {journalctlArgv, parseJournalOutput, type JournalEntry, type JournalQuery} from './journal.js'
import {systemctlListArgv, systemctlShowArgv, parseSystemctlShow, systemdUnavailable, unitStatusFromShow, type UnitStatus} from './systemctl.js'

/** Runs an argv; runProcess in production, a recorder in tests. */
export type Runner = (argv: readonly string[], options: RunOptions) => Promise<RunResult>

/** Dependencies of the service and journal readers. */
export interface ServicesDeps {
  /** True when systemd is PID 1 (checked per request: cheap, and a container may gain it). */
  systemd: () => Promise<boolean>
  /** Directories holding journal files (read even without systemd, e.g. a copied journal). */
  journalDirs?: readonly string[]
  run?: Runner
  now?: () => number
}

const SYSTEMCTL_TIMEOUT_MS = 10_000
const JOURNAL_TIMEOUT_MS = 20_000
// 1000 entries of up to 4 KiB messages plus journald's metadata fields.
const JOURNAL_MAX_OUTPUT = 16 * 1024 * 1024
const RECENT_LOG_LINES = 10

async function hasJournalFiles(dirs: readonly string[]): Promise<boolean> {
  for (const dir of dirs) {
    const entries = await readdir(dir, {withFileTypes: true}).catch(() => [])
    for (const entry of entries) {
      if (entry.isFile() && entry.name.endsWith('.journal')) return true
      if (entry.isDirectory() && (await readdir(join(dir, entry.name)).catch(() => [] as string[])).some((n) => n.endsWith('.journal'))) return true
    }
  }
  return false
}

function failed(what: string, result: RunResult): OsmodaError {
  if (result.timedOut) return new OsmodaError('UPSTREAM_TIMEOUT', `${what} did not answer in time`)
  return new OsmodaError('UPSTREAM_FAILED', `${what} failed (exit ${result.exitCode ?? result.signal}): ${result.stderr.trim().slice(0, 500)}`)
}

/** service_status and journal_logs over systemctl and journalctl; 503 SYSTEMD_UNAVAILABLE where they cannot work. */
export function createServicesService(deps: ServicesDeps) {
  const run = deps.run ?? runProcess
  const now = deps.now ?? Date.now
  const journalDirs = deps.journalDirs ?? ['/run/log/journal', '/var/log/journal']

  const readJournal = async (query: JournalQuery, signal?: AbortSignal): Promise<{entries: JournalEntry[]; truncated: boolean}> => {
    const result = await run(journalctlArgv(query, now()), {timeoutMs: JOURNAL_TIMEOUT_MS, maxOutputBytes: JOURNAL_MAX_OUTPUT, signal})
    // journalctl exits 1 with "-- No entries --" style notes on some versions when nothing matched.
    if (result.exitCode !== 0 && result.stdout.trim() === '') {
      if (/no entries|no journal files/i.test(result.stderr)) return {entries: [], truncated: false}
      throw failed('journalctl', result)
    }
    return parseJournalOutput(result.stdout, query.lines, result.stdoutTruncated)
  }

  return {
    async status(input: {unit?: string; limit: number}, signal?: AbortSignal): Promise<(UnitStatus & {recent_log: JournalEntry[]}) | {units: ServiceUnit[]; next_cursor: null}> {
      if (!(await deps.systemd())) {
        throw systemdUnavailable('service status', 'Use network_info or system_query "processes"/"ports" to see what runs here; on this host `osmoda up` supervises the osmoda daemons.')
      }
      if (input.unit === undefined) {
        const result = await run(systemctlListArgv(), {timeoutMs: SYSTEMCTL_TIMEOUT_MS, signal})
        if (result.exitCode !== 0) throw failed('systemctl list-units', result)
        return {units: parseServiceUnits(result.stdout).slice(0, input.limit), next_cursor: null}
      }
      const result = await run(systemctlShowArgv(input.unit), {timeoutMs: SYSTEMCTL_TIMEOUT_MS, signal})
      if (result.exitCode !== 0) throw failed('systemctl show', result)
      const status = unitStatusFromShow(parseSystemctlShow(result.stdout)[0] ?? {}, input.unit)
      // The recent log is a courtesy: a journal that cannot be read leaves it empty.
      const log = await readJournal({unit: status.unit, lines: RECENT_LOG_LINES}, signal).catch(() => ({entries: []}))
      return {...status, recent_log: log.entries}
    },

    async journal(query: JournalQuery, signal?: AbortSignal): Promise<{entries: JournalEntry[]; truncated: boolean}> {
      if (!(await deps.systemd()) && !(await hasJournalFiles(journalDirs))) {
        throw systemdUnavailable(
          'the journal',
          'There is no systemd journal on this host: read log files under /var/log with file_read, or the osmoda daemons\' own logs (stderr of `osmoda up`).',
        )
      }
      return readJournal(query, signal)
    },
  }
}

/** The services service's type. */
export type ServicesService = ReturnType<typeof createServicesService>
