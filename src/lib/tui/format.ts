import type {TuiEvent} from './sources.js'

/** `3m12s`, `2h05m`, `4d03h`: short enough for the header. */
export function formatUptime(secs: number): string {
  const s = Math.max(0, Math.floor(secs))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`
}

/** `61M`, `1.2G`: resident memory in the header. */
export function formatRss(bytes: number | null): string {
  if (bytes === null) return '—'
  const mib = bytes / (1024 * 1024)
  return mib >= 1024 ? `${(mib / 1024).toFixed(1)}G` : `${Math.round(mib)}M`
}

/** The domain of an event type: the part before the dot (`switch` of `switch.rolled_back`). */
export function eventDomain(type: string): string {
  const dot = type.indexOf('.')
  return dot === -1 ? type : type.slice(0, dot)
}

const DOMAIN_COLORS: Record<string, string> = {
  daemon: 'gray',
  tool: 'cyan',
  approval: 'yellow',
  switch: 'magenta',
  watcher: 'magentaBright',
  incident: 'red',
  memory: 'blue',
  wallet: 'green',
  file: 'cyanBright',
  shell: 'yellowBright',
  backup: 'blueBright',
  notification: 'redBright',
}
const PALETTE = ['green', 'blue', 'cyan', 'magenta', 'yellow', 'greenBright', 'blueBright']

/** A stable colour per domain: the known ones fixed, any other picked by a hash of its name. */
export function domainColor(type: string): string {
  const domain = eventDomain(type)
  const known = DOMAIN_COLORS[domain]
  if (known) return known
  let hash = 0
  for (const ch of domain) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0
  return PALETTE[hash % PALETTE.length] as string
}

/** The short payload text of one log line, cut to `width` characters. */
export function payloadText(event: TuiEvent, width: number): string {
  const text = JSON.stringify(event.payload)
  if (width <= 1) return ''
  return text.length > width ? `${text.slice(0, width - 1)}…` : text
}

/** Filters of the event log: an exact type or `domain.*`, and an exact actor. */
export interface LogFilter {
  type?: string
  actor?: string
}

/** Whether an event passes the filter (the same rule as agentd's `type` filter: exact or `domain.*`). */
export function matchesFilter(event: Pick<TuiEvent, 'type' | 'actor'>, filter: LogFilter): boolean {
  if (filter.actor && event.actor !== filter.actor) return false
  if (!filter.type) return true
  if (filter.type.endsWith('.*')) return event.type.startsWith(filter.type.slice(0, -1))
  // A bare domain ("switch") is taken as "switch.*": it is what someone typing a filter means.
  if (!filter.type.includes('.')) return eventDomain(event.type) === filter.type
  return event.type === filter.type
}

/** `type=switch.* actor=agent:ops`, or `none`. */
export function describeFilter(filter: LogFilter): string {
  const parts = [filter.type ? `type=${filter.type}` : '', filter.actor ? `actor=${filter.actor}` : ''].filter(Boolean)
  return parts.length ? parts.join(' ') : 'none'
}
