import {PRIORITY_NAMES} from './api.js'
import {normalizeUnitName} from './systemctl.js'

/** syslog priorities, most severe first; the index is the number journald stores. */
export const PRIORITIES = PRIORITY_NAMES

/** One syslog priority name. */
export type Priority = (typeof PRIORITIES)[number]

/** Longest message returned per entry (SPEC §2.1 GET /journal/logs). */
export const MAX_MESSAGE_CHARS = 4096

/** One journal entry as GET /journal/logs returns it. */
export interface JournalEntry {
  ts: string
  unit: string | null
  priority: Priority | null
  identifier: string | null
  pid: number | null
  message: string
}

/** What to read from the journal. */
export interface JournalQuery {
  unit?: string
  priority?: Priority
  since?: string
  until?: string
  lines: number
  grep?: string
}

const UNITS_MS: Record<string, number> = {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000}

/** An SPEC §1.8 relative time (`24h`, `7d`) or RFC 3339 instant as epoch milliseconds. */
export function resolveRelativeTime(text: string, now: number): number {
  const duration = /^([1-9][0-9]*)([smhdw])$/.exec(text)
  if (duration) return now - Number(duration[1]) * (UNITS_MS[duration[2] as string] as number)
  return Date.parse(text)
}

/**
 * argv of journalctl for a query. Every value travels as `--option=value`, so a value starting with
 * `-` is never an option; times become `@<epoch seconds>`, which every journalctl understands. One
 * line more than asked is read so the caller can tell whether older entries were left out, newest
 * first so that an output cap drops the oldest entries rather than the newest.
 */
export function journalctlArgv(query: JournalQuery, now: number): string[] {
  const argv = ['journalctl', '--no-pager', '--quiet', '--output=json', '--reverse', `--lines=${query.lines + 1}`]
  if (query.unit !== undefined) argv.push(`--unit=${normalizeUnitName(query.unit)}`)
  if (query.priority !== undefined) argv.push(`--priority=${query.priority}`)
  if (query.since !== undefined) argv.push(`--since=@${Math.floor(resolveRelativeTime(query.since, now) / 1000)}`)
  if (query.until !== undefined) argv.push(`--until=@${Math.ceil(resolveRelativeTime(query.until, now) / 1000)}`)
  if (query.grep !== undefined) argv.push(`--grep=${query.grep}`)
  return argv
}

// journald writes a field that is not valid UTF-8 as an array of byte values, and a field that
// occurs several times in one entry as an array of those values.
function fieldText(value: unknown): string | null {
  if (typeof value === 'string') return value
  if (Array.isArray(value) && value.every((b) => typeof b === 'number')) return Buffer.from(value as number[]).toString('utf8')
  if (Array.isArray(value)) return value.map(fieldText).filter((v) => v !== null).join('\n')
  return null
}

// Number(null) is 0, which would make an entry without PRIORITY an "emerg".
function numberField(value: unknown): number {
  const text = fieldText(value)
  return text === null || !/^\d+$/.test(text) ? NaN : Number(text)
}

function truncate(text: string): string {
  return text.length <= MAX_MESSAGE_CHARS ? text : `${text.slice(0, MAX_MESSAGE_CHARS - 1)}…`
}

/** One `journalctl -o json` line as an entry, or null for a line that is not an entry. */
export function parseJournalLine(line: string): JournalEntry | null {
  let record: Record<string, unknown>
  try {
    record = JSON.parse(line) as Record<string, unknown>
  } catch {
    return null
  }
  if (!record || typeof record !== 'object' || Array.isArray(record)) return null
  const micros = Number(fieldText(record.__REALTIME_TIMESTAMP))
  if (!Number.isFinite(micros) || micros <= 0) return null
  const priority = numberField(record.PRIORITY)
  const pid = numberField(record._PID)
  return {
    ts: new Date(Math.floor(micros / 1000)).toISOString(),
    unit: fieldText(record._SYSTEMD_UNIT) ?? fieldText(record.UNIT),
    priority: Number.isInteger(priority) ? (PRIORITIES[priority] ?? null) : null,
    identifier: fieldText(record.SYSLOG_IDENTIFIER) ?? fieldText(record._COMM),
    pid: Number.isSafeInteger(pid) && pid > 0 ? pid : null,
    message: truncate(fieldText(record.MESSAGE) ?? ''),
  }
}

/**
 * `journalctl --reverse -o json` output (newest first) as at most `lines` newest entries, oldest
 * first; `truncated` when more matched (journalctl was asked for one more) or the byte cap cut it.
 */
export function parseJournalOutput(text: string, lines: number, outputTruncated = false): {entries: JournalEntry[]; truncated: boolean} {
  const rows = text.split('\n')
  // A capped stream ends in a partial line; it is dropped, not half-parsed.
  if (outputTruncated) rows.pop()
  const entries = rows.map((row) => (row.trim() === '' ? null : parseJournalLine(row))).filter((e): e is JournalEntry => e !== null)
  const truncated = outputTruncated || entries.length > lines
  return {entries: entries.slice(0, lines).reverse(), truncated}
}
