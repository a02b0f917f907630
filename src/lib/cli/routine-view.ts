import {Flags} from '@oclif/core'
import {UsageError} from '../errors.js'

/** A routine row as the CLI tables show it. */
export interface RoutineRow {
  id: string
  name: string
  enabled: boolean
  trigger: Record<string, unknown>
  action: Record<string, unknown>
  last_status: string | null
  last_run_at: string | null
  next_run_at: string | null
  run_count: number
}

/** One-line description of a trigger: `cron 0 9 * * * UTC`, `every 300s`, `on switch.*`, `webhook`. */
export function describeTrigger(trigger: Record<string, unknown>): string {
  switch (trigger.type) {
    case 'cron':
      return `cron ${String(trigger.expression)} ${String(trigger.timezone ?? 'UTC')}`
    case 'interval':
      return `every ${String(trigger.seconds)}s`
    case 'event':
      return `on ${String(trigger.event_type)}`
    default:
      return String(trigger.type)
  }
}

/** Rows for `routine list` tables. */
export function routineRows(routines: readonly RoutineRow[]) {
  return routines.map((r) => ({id: r.id, name: r.name, enabled: r.enabled ? 'yes' : 'no', trigger: describeTrigger(r.trigger), action: String(r.action.type), last: r.last_status ?? '-', last_run_at: r.last_run_at ?? '-', next_run_at: r.next_run_at ?? '-'}))
}

/** The trigger flags shared by `routine add` and `routine update`. */
export const TRIGGER_FLAGS = {
  cron: Flags.string({description: 'Standard 5-field cron expression, e.g. "0 9 * * mon-fri"', exclusive: ['every', 'on-event', 'webhook']}),
  timezone: Flags.string({description: 'IANA time zone of --cron (default UTC)', dependsOn: ['cron']}),
  every: Flags.integer({description: 'Run every N seconds (≥ 10)', exclusive: ['cron', 'on-event', 'webhook']}),
  'on-event': Flags.string({description: 'Run on a ledger event type: exact (switch.rolled_back) or domain.* prefix', exclusive: ['cron', 'every', 'webhook']}),
  debounce: Flags.integer({description: 'With --on-event: ignore matches this many seconds after a run (default 60)', dependsOn: ['on-event']}),
  webhook: Flags.boolean({description: 'Run when the gateway relays a signed webhook (the secret is printed once)', exclusive: ['cron', 'every', 'on-event']}),
}

/** The trigger the flags describe, or undefined when none was given. */
export function triggerFromFlags(flags: {cron?: string; timezone?: string; every?: number; 'on-event'?: string; debounce?: number; webhook?: boolean}): Record<string, unknown> | undefined {
  if (flags.cron !== undefined) return {type: 'cron', expression: flags.cron, ...(flags.timezone ? {timezone: flags.timezone} : {})}
  if (flags.every !== undefined) return {type: 'interval', seconds: flags.every}
  if (flags['on-event'] !== undefined) return {type: 'event', event_type: flags['on-event'], ...(flags.debounce !== undefined ? {debounce_secs: flags.debounce} : {})}
  if (flags.webhook) return {type: 'webhook'}
  return undefined
}

/** Parses `--action JSON`. */
export function parseActionFlag(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>
  } catch {
    // reported below
  }
  throw new UsageError('--action must be a JSON object such as \'{"type":"command","command":"/usr/bin/df","args":["-h"]}\'', {code: 'USAGE'})
}
