import {z} from 'zod'
import {route} from '../../../lib/rpc/route.js'
import {limit} from '../../../lib/schema/primitives.js'

// The contract of the services, journal and network routes, apart from the code that answers
// them, so clients importing api.ts do not load the readers.

const OA = ['operator', 'agent'] as const

/** syslog priorities, most severe first (journal_logs `priority`). */
export const PRIORITY_NAMES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const

const UnitName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9_.:@\\][A-Za-z0-9_.:@\\-]*$/, 'expected a systemd unit name such as nginx.service (letters, digits, _.:@\\-; not starting with -)')

// V8's Date.parse rolls 2026-02-30 over to March 2; the calendar date must survive the round trip.
function isRealInstant(text: string): boolean {
  const [y, m, d] = text.slice(0, 10).split('-').map(Number) as [number, number, number]
  const day = new Date(Date.UTC(y, m - 1, d))
  return !Number.isNaN(Date.parse(text)) && day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d
}

// SPEC §1.8: a duration back from now or an RFC 3339 instant.
const RelativeTime = z
  .string()
  .max(64)
  .regex(/^([1-9][0-9]{0,8}[smhdw]|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2}))$/, 'expected a duration such as 30m, 24h, 7d or an RFC 3339 instant')
  .refine((text) => /^[0-9]+[smhdw]$/.test(text) || isRealInstant(text), 'not a valid RFC 3339 instant')

const Priority = z.enum(PRIORITY_NAMES)

/** One journal entry. */
export const JournalEntry = z.object({
  ts: z.string(),
  unit: z.string().nullable(),
  priority: Priority.nullable(),
  identifier: z.string().nullable(),
  pid: z.number().int().nullable(),
  message: z.string().describe('At most 4096 characters'),
})

/** Input of GET /service/status (tool `service_status`). */
export const ServiceStatusInput = z.strictObject({
  unit: UnitName.optional().describe('A unit such as "nginx.service" or "nginx" (.service is assumed); omit to list every service unit'),
  limit: limit(200, 1000),
})

const UnitStatus = z.object({
  unit: z.string(),
  description: z.string(),
  load_state: z.string(),
  active_state: z.string().describe('active, inactive, failed, activating, deactivating, reloading'),
  sub_state: z.string(),
  enabled: z.string().nullable().describe('The unit file state: enabled, disabled, static, masked, … (null for transient units)'),
  main_pid: z.number().int().nullable(),
  memory_bytes: z.number().nullable(),
  active_since: z.string().nullable(),
  n_restarts: z.number().int().nullable(),
  recent_log: z.array(JournalEntry).max(10).describe('The last journal entries of the unit, oldest first'),
})

/**
 * Output of GET /service/status: with `unit`, that unit's fields; without, `units` and
 * `next_cursor`. One object (not a union) because MCP output schemas must be objects.
 */
export const ServiceStatusOutput = UnitStatus.partial().extend({
  units: z
    .array(z.object({unit: z.string(), load_state: z.string(), active_state: z.string(), sub_state: z.string(), description: z.string()}))
    .optional()
    .describe('Without `unit`: every loaded service unit, any state'),
  next_cursor: z.string().nullable().optional(),
})

/** Input of GET /journal/logs (tool `journal_logs`). */
export const JournalLogsInput = z.strictObject({
  unit: UnitName.optional().describe('Only entries of this unit, e.g. "nginx.service"'),
  priority: Priority.optional().describe('Only entries this severe or worse: emerg, alert, crit, err, warning, notice, info, debug'),
  since: RelativeTime.optional().describe('Only entries at or after this: a duration back from now (30m, 24h, 7d) or an RFC 3339 instant'),
  until: RelativeTime.optional().describe('Only entries before this: a duration back from now or an RFC 3339 instant'),
  lines: limit(50, 1000).describe('How many of the newest matching entries (default 50, at most 1000; larger values are clamped)'),
  grep: z.string().min(1).max(256).optional().describe('Only entries whose message matches this regular expression (PCRE, case-insensitive when all lowercase)'),
})

/** Output of GET /journal/logs. */
export const JournalLogsOutput = z.object({
  entries: z.array(JournalEntry).describe('Oldest first'),
  truncated: z.boolean().describe('True when older matching entries were left out'),
})

/** Input of GET /network/info (tool `network_info`). */
export const NetworkInfoInput = z.strictObject({
  detail: z.enum(['interfaces', 'ports', 'connections', 'routes', 'dns', 'all']).default('all').describe('Which section to read (default all)'),
})

/** Output of GET /network/info: the requested sections. */
export const NetworkInfoOutput = z.object({
  interfaces: z
    .array(z.object({name: z.string(), state: z.string(), mac: z.string().nullable(), mtu: z.number().int().nullable(), addresses: z.array(z.string()).describe('CIDR, e.g. 127.0.0.1/8')}))
    .optional(),
  ports: z.array(z.object({proto: z.enum(['tcp', 'udp']), address: z.string(), port: z.number().int(), pid: z.number().int().nullable(), process: z.string().nullable()})).optional(),
  connections: z
    .array(z.object({proto: z.enum(['tcp', 'udp']), local: z.string(), remote: z.string(), state: z.string(), pid: z.number().int().nullable(), process: z.string().nullable()}))
    .optional()
    .describe('At most 200, established first'),
  routes: z.array(z.object({dst: z.string(), gateway: z.string().nullable(), dev: z.string().nullable(), metric: z.number()})).optional(),
  dns: z.object({servers: z.array(z.string()), search: z.array(z.string())}).optional(),
})

/** agentd's service, journal and network routes. */
export const servicesApi = {
  serviceStatus: route('GET', '/service/status', {input: ServiceStatusInput, output: ServiceStatusOutput, roles: OA}),
  journalLogs: route('GET', '/journal/logs', {input: JournalLogsInput, output: JournalLogsOutput, roles: OA}),
  networkInfo: route('GET', '/network/info', {input: NetworkInfoInput, output: NetworkInfoOutput, roles: OA}),
} as const
