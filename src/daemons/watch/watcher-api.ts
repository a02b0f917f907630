import {z} from 'zod'
import {route} from '../../lib/rpc/route.js'
import {IsoTime} from '../../lib/schema/primitives.js'
import {AbsoluteExecutable, CheckArgs, HealthCheck, MAX_CHECK_TIMEOUT_SECS, UNIT_NAME} from '../../lib/health-checks.js'

const O = ['operator'] as const
const OA = ['operator', 'agent'] as const

/** `wat_` + ULID. */
export const WatcherId = z.string().regex(/^wat_[0-7][0-9A-HJKMNP-TV-Z]{25}$/, 'expected wat_ followed by a 26-character ULID')

/** Watcher states (SPEC §2.3). */
export const WATCHER_STATES = ['healthy', 'degraded', 'recovering', 'escalated', 'breaker_open'] as const

/** A watcher state. */
export type WatcherState = (typeof WATCHER_STATES)[number]

/** One ladder step (SPEC §2.3 Actions). */
export const WatcherAction = z.discriminatedUnion('type', [
  z.strictObject({type: z.literal('restart_service'), unit: z.string().regex(UNIT_NAME, 'expected a unit name [A-Za-z0-9@._:-]{1,256}').describe('systemd unit to restart')}),
  z.strictObject({
    type: z.literal('command'),
    command: AbsoluteExecutable,
    args: CheckArgs,
    timeout_secs: z.number().int().min(1).max(MAX_CHECK_TIMEOUT_SECS).optional().describe(`Seconds before the command is stopped (1..${MAX_CHECK_TIMEOUT_SECS}; default checkTimeouts.command)`),
  }),
  z.strictObject({type: z.literal('rollback_generation').describe('SafeSwitch back to the explicit previous generation of the system profile (once per episode)')}),
  z.strictObject({
    type: z.literal('notify'),
    message: z.string().min(1).max(500).describe('What the operator is told'),
    severity: z.enum(['info', 'warning', 'critical']).default('warning'),
  }),
])

/** A validated ladder step. */
export type WatcherAction = z.output<typeof WatcherAction>

/** A watcher name: printable, 1..64 characters. */
const WatcherName = z
  .string()
  .min(1)
  .max(64)
  .refine((name) => [...name].every((c) => c >= ' ' && c !== '\u007f'), 'must not contain control characters')
  .describe('A name unique among watchers (1..64 characters)')

/** A watcher (SPEC §2.3). */
export const Watcher = z.object({
  id: WatcherId,
  name: z.string(),
  check: HealthCheck,
  interval_secs: z.number().int(),
  actions: z.array(WatcherAction),
  stable_secs: z.number().int(),
  state: z.enum(WATCHER_STATES),
  step: z.number().int().describe('Index of the next ladder step'),
  consecutive_failures: z.number().int(),
  last_result: z.object({ok: z.boolean(), detail: z.string(), at: IsoTime}).nullable(),
  last_action: z.object({type: z.string(), ok: z.boolean(), at: IsoTime}).nullable(),
  actions_in_window: z.number().int(),
  created_at: IsoTime,
  actor: z.string(),
})

/** A watcher as routes return it. */
export type Watcher = z.output<typeof Watcher>

/** One check run of a watcher. */
export const WatcherResult = z.object({ok: z.boolean(), detail: z.string(), duration_ms: z.number().int(), at: IsoTime, state: z.enum(WATCHER_STATES)})

/** POST /watcher/add: tool `watcher_add`. */
export const WatcherAddInput = z.strictObject({
  name: WatcherName,
  check: HealthCheck.describe(
    'What to watch: systemd_unit {unit}, tcp_port {host, port}, http_get {url, expect_status, timeout_secs}, command {command (absolute), args, timeout_secs}',
  ),
  interval_secs: z.number().int().min(5).max(3600).optional().describe('Seconds between checks, ±10 % jitter (5..3600, default watcher.intervalSecs = 30)'),
  actions: z
    .array(WatcherAction)
    .min(1)
    .max(8)
    .optional()
    .describe(
      'The escalation ladder, in order (≤8): restart_service {unit}, command {command (absolute), args, timeout_secs}, rollback_generation, notify {message, severity}. ' +
        'Default: systemd_unit check → [restart_service(unit), notify(critical)], otherwise [notify(warning)]',
    ),
  stable_secs: z.number().int().min(30).max(86_400).optional().describe('Seconds the check must keep passing before the watcher is healthy again (30..86400, default 300)'),
  approval_id: z.string().max(64).nullable().optional().describe('The approved approval id when repeating a call that returned APPROVAL_REQUIRED'),
})

/** GET /watcher/list: tool `watcher_list`. */
export const WatcherListInput = z.strictObject({state: z.enum(WATCHER_STATES).optional().describe('Only watchers in this state')})

const ById = z.strictObject({id: WatcherId})

/** The watcher routes of watch (SPEC §2.3). */
export const watcherApi = {
  watcherAdd: route('POST', '/watcher/add', {input: WatcherAddInput, output: Watcher, roles: OA}),
  watcherList: route('GET', '/watcher/list', {input: WatcherListInput, output: z.object({watchers: z.array(Watcher)}), roles: OA}),
  watcherGet: route('GET', '/watcher/{id}', {input: ById, output: Watcher.extend({results: z.array(WatcherResult)}), roles: OA}),
  watcherRemove: route('DELETE', '/watcher/{id}', {input: ById.extend({approval_id: z.string().max(64).optional().describe('The approved approval id')}), output: z.object({removed: WatcherId}), roles: OA}),
  watcherReset: route('POST', '/watcher/{id}/reset', {input: ById, output: Watcher, roles: O}),
} as const
