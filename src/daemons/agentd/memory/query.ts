import {UsageError} from '../../../lib/errors.js'
import {normaliseInstant} from './files.js'

const TERM_CHARS = /[\p{L}\p{N}_.-]+\*?/gu
const HAS_ALNUM = /[\p{L}\p{N}]/u
const QUERY_HINT = 'use words (letters, digits, _ - .), "quoted phrases" or prefix* terms, e.g. nginx "disk full" restart*'

/** One parsed recall term. */
export interface RecallTerm {
  kind: 'term' | 'prefix' | 'phrase'
  text: string
}

/**
 * Parses a recall query (SPEC §2.1 Memory): `"phrases"`, words of alphanumerics plus `_-.` and
 * trailing `*` prefixes; everything else separates terms. No terms → 400 with a hint.
 */
export function parseRecallQuery(query: string): RecallTerm[] {
  const terms: RecallTerm[] = []
  // Quoted phrases first; an unmatched quote is just a separator.
  const rest = query.replace(/"([^"]*)"/g, (_, inner: string) => {
    const words = (inner.match(/[\p{L}\p{N}_.-]+/gu) ?? []).filter((w) => HAS_ALNUM.test(w))
    if (words.length) terms.push({kind: 'phrase', text: words.join(' ')})
    return ' '
  })
  for (const raw of rest.match(TERM_CHARS) ?? []) {
    const prefix = raw.endsWith('*')
    const text = prefix ? raw.slice(0, -1) : raw
    if (!HAS_ALNUM.test(text)) continue
    terms.push({kind: prefix ? 'prefix' : 'term', text})
  }
  if (!terms.length) throw new UsageError('the recall query has no searchable terms', {details: ['query: no words, phrases or prefixes'], hint: QUERY_HINT})
  return terms
}

/**
 * The FTS5 MATCH expression for parsed terms: each term a quoted FTS5 string (so no operator or
 * column syntax can come from the user), prefixes with `*`, all OR-ed.
 */
export function toFtsQuery(terms: readonly RecallTerm[]): string {
  return terms.map((t) => `"${t.text.replace(/"/g, '""')}"${t.kind === 'prefix' ? '*' : ''}`).join(' OR ')
}

/** A half-open time window in epoch ms. */
export interface TimeWindow {
  fromMs: number
  toMs: number
}

const DURATION_RE = /^([1-9][0-9]{0,11})([smhdw])$/
const UNIT_MS = {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000} as const
const CALENDAR_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/

/** True when `text` is a valid timeframe (used by the route schema). */
export function isTimeframe(text: string): boolean {
  return DURATION_RE.test(text) || CALENDAR_RE.test(text) ? parseTimeframe(text, 0) !== null : normaliseInstant(text) !== null
}

/**
 * A `timeframe` (SPEC §1.8): a duration (`24h`, `7d`, `30m` = now minus that until now), an RFC 3339
 * instant (since then), or a UTC calendar prefix `YYYY`, `YYYY-MM`, `YYYY-MM-DD` (that period).
 */
export function parseTimeframe(text: string, nowMs: number): TimeWindow | null {
  const duration = DURATION_RE.exec(text)
  if (duration) {
    const span = Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS]
    return {fromMs: Math.max(0, nowMs - span), toMs: Number.MAX_SAFE_INTEGER}
  }
  const calendar = CALENDAR_RE.exec(text)
  if (calendar) {
    const year = Number(calendar[1])
    const month = calendar[2] === undefined ? null : Number(calendar[2])
    const day = calendar[3] === undefined ? null : Number(calendar[3])
    if (month !== null && (month < 1 || month > 12)) return null
    const from = Date.UTC(year, (month ?? 1) - 1, day ?? 1)
    if (day !== null && new Date(from).getUTCDate() !== day) return null
    const to = day !== null ? Date.UTC(year, (month as number) - 1, day + 1) : month !== null ? Date.UTC(year, month, 1) : Date.UTC(year + 1, 0, 1)
    return {fromMs: from, toMs: to}
  }
  const instant = normaliseInstant(text)
  return instant ? {fromMs: Date.parse(instant), toMs: Number.MAX_SAFE_INTEGER} : null
}
