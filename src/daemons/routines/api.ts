import {isAbsolute} from 'node:path'
import {Cron} from 'croner'
import {z} from 'zod'
import {commonApi} from '../../lib/daemon/common-api.js'
import {route} from '../../lib/rpc/route.js'
import {HealthBase, IsoTime, limit} from '../../lib/schema/primitives.js'

const O = ['operator'] as const
const OA = ['operator', 'agent'] as const

/** The ids of the six default routines (SPEC §2.4). */
export const DEFAULT_ROUTINE_IDS = ['default-health', 'default-services', 'default-logscan', 'default-memory', 'default-generation', 'default-network'] as const

/** A routine id: `rtn_<ULID>` for created ones, `default-*` (or a Nix-given slug) otherwise. */
export const RoutineId = z.string().regex(/^(rtn_[0-7][0-9A-HJKMNP-TV-Z]{25}|[a-z][a-z0-9-]{0,63})$/, 'expected rtn_<ULID> or a slug such as default-health')
export const RunId = z.string().regex(/^run_[0-7][0-9A-HJKMNP-TV-Z]{25}$/, 'expected run_ followed by a 26-character ULID')
const ApprovalId = z.string().regex(/^apr_[0-7][0-9A-HJKMNP-TV-Z]{25}$/, 'expected apr_ followed by a 26-character ULID')

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', {timeZone: name})
    return true
  } catch {
    return false
  }
}

/** Why a 5-field cron expression is invalid, or null when croner accepts it. */
export function cronProblem(expression: string, timezone = 'UTC'): string | null {
  if (expression.trim().split(/\s+/).length !== 5) return 'expected exactly 5 fields: minute hour day-of-month month day-of-week (no seconds, no @nicknames)'
  try {
    new Cron(expression, {paused: true, mode: '5-part', timezone}).nextRun()
    return null
  } catch (error) {
    return (error as Error).message.replace(/^CronPattern: /, '')
  }
}

const CronTrigger = z
  .strictObject({
    type: z.literal('cron'),
    expression: z.string().min(9).max(128).describe('Standard 5-field cron "m h dom mon dow" (ranges, steps, lists, names; dom/dow OR-ed)'),
    timezone: z.string().min(1).max(64).refine(isTimeZone, 'expected an IANA time zone such as UTC or Europe/Berlin').default('UTC'),
  })
  .superRefine((trigger, ctx) => {
    const problem = cronProblem(trigger.expression, trigger.timezone)
    if (problem) ctx.addIssue({code: 'custom', path: ['expression'], message: problem})
  })
const IntervalTrigger = z.strictObject({type: z.literal('interval'), seconds: z.number().int().min(10).max(31_536_000).describe('Run every N seconds (10 s .. 1 year)')})
const EventTrigger = z.strictObject({
  type: z.literal('event'),
  event_type: z
    .string()
    .max(64)
    .regex(/^[a-z][a-z0-9_]*\.([a-z][a-z0-9_]*|\*)$/, 'expected domain.event or domain.*')
    .describe('Ledger event type, exact (switch.rolled_back) or a domain prefix (switch.*)'),
  match: z
    .strictObject({
      actor: z.string().min(1).max(128).optional(),
      payload: z.record(z.string().max(64), z.union([z.string().max(256), z.number(), z.boolean(), z.null()])).refine((p) => Object.keys(p).length <= 16, 'at most 16 keys').optional(),
    })
    .optional()
    .describe('Only events by this actor and whose payload has these top-level values'),
  debounce_secs: z.number().int().min(0).max(86_400).default(60).describe('After a run, matching events within this many seconds are ignored'),
})
const WebhookTrigger = z.strictObject({type: z.literal('webhook')})

/** When a routine runs (SPEC §2.4). */
export const Trigger = z.discriminatedUnion('type', [CronTrigger, IntervalTrigger, EventTrigger, WebhookTrigger])
export type Trigger = z.output<typeof Trigger>

const UnitName = z.string().min(1).max(256).regex(/^[A-Za-z0-9_.:@\\][A-Za-z0-9_.:@\\-]*$/, 'expected a systemd unit name')
const Port = z.number().int().min(1).max(65_535)
const HeaderName = z.string().min(1).max(128).regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'expected an HTTP header name')

const HealthCheckAction = z.strictObject({
  type: z.literal('health_check'),
  thresholds: z
    .strictObject({
      cpu_pct: z.number().min(1).max(100).default(90),
      cpu_consecutive: z.number().int().min(1).max(100).default(3),
      memory_pct: z.number().min(1).max(100).default(85),
      disk_pct: z.number().min(1).max(100).default(90),
      load_per_core: z.number().min(0.1).max(1000).default(2),
    })
    .optional(),
})
const ServiceMonitorAction = z.strictObject({type: z.literal('service_monitor'), units: z.array(UnitName).min(1).max(64)})
const LogScanAction = z.strictObject({type: z.literal('log_scan'), priority: z.enum(['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug']).default('err')})
const MemoryMaintenanceAction = z.strictObject({type: z.literal('memory_maintenance')})
const GenerationCheckAction = z.strictObject({type: z.literal('generation_check')})
const NetworkWatchAction = z.strictObject({type: z.literal('network_watch'), expected_ports: z.array(Port).max(256).optional()})
const CommandAction = z.strictObject({
  type: z.literal('command'),
  command: z
    .string()
    .min(2)
    .max(4096)
    .refine((path) => isAbsolute(path), 'expected an absolute path to an executable such as /usr/bin/df (no shell, no PATH lookup)')
    .describe('Absolute path of the executable; run with args, never through a shell'),
  args: z.array(z.string().max(4096)).max(256).default([]),
  timeout_secs: z.number().int().min(1).max(86_400).optional().describe('Deadline in seconds (default commandTimeout.defaultSecs, at most commandTimeout.maxSecs)'),
})
const WebhookAction = z.strictObject({
  type: z.literal('webhook'),
  url: z
    .url({protocol: /^https?$/, error: 'expected an http:// or https:// URL'})
    .max(2048),
  method: z.enum(['POST', 'PUT', 'GET']).default('POST'),
  body: z.string().max(65_536).optional(),
  headers: z.record(HeaderName, z.string().max(4096)).refine((h) => Object.keys(h).length <= 32, 'at most 32 headers').optional().describe('Header values are write-only: never shown again'),
})
const AgentPromptAction = z.strictObject({
  type: z.literal('agent_prompt'),
  agent_id: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/).default('osmoda'),
  text: z.string().min(1).max(16_000),
  channel: z.string().min(1).max(64).optional(),
})

/** What a routine does (SPEC §2.4). */
export const Action = z.discriminatedUnion('type', [
  HealthCheckAction,
  ServiceMonitorAction,
  LogScanAction,
  MemoryMaintenanceAction,
  GenerationCheckAction,
  NetworkWatchAction,
  CommandAction,
  WebhookAction,
  AgentPromptAction,
])
export type Action = z.output<typeof Action>

/** Action types whose `routine_add` needs an approval for the agent (SPEC §1.6). */
export const GATED_ACTIONS: ReadonlySet<string> = new Set(['command', 'webhook', 'agent_prompt'])

/** A routine as every route returns it; webhook header values are replaced by their names. */
export const Routine = z.object({
  id: z.string(),
  name: z.string(),
  trigger: z.record(z.string(), z.unknown()),
  action: z.record(z.string(), z.unknown()),
  enabled: z.boolean(),
  created_at: IsoTime,
  updated_at: IsoTime,
  last_run_at: IsoTime.nullable(),
  last_status: z.enum(['ok', 'error', 'timeout', 'skipped', 'running']).nullable(),
  run_count: z.number().int(),
  next_run_at: IsoTime.nullable().describe('Next scheduled run (cron/interval); null for event and webhook triggers and when disabled'),
})

export const RUN_STATUSES = ['ok', 'error', 'timeout', 'skipped', 'running'] as const
export const RUN_TRIGGERS = ['cron', 'interval', 'event', 'webhook', 'manual'] as const

/** One run of a routine. */
export const Run = z.object({
  id: z.string(),
  routine_id: z.string(),
  trigger: z.enum(RUN_TRIGGERS),
  started_at: IsoTime,
  ended_at: IsoTime.nullable(),
  status: z.enum(RUN_STATUSES),
  output: z.string().describe('What the run found (capped at outputCapBytes)'),
  error: z.string().nullable(),
  event_seq: z.number().int().nullable(),
})
export type Run = z.output<typeof Run>

const Name = z
  .string()
  .min(1)
  .max(64)
  .refine((name) => [...name].every((c) => c >= ' ' && c !== '\u007f'), 'no control characters')

export const RoutineAddInput = z.strictObject({
  name: Name.describe('Unique human name (1..64 characters)'),
  trigger: Trigger.describe('cron {expression, timezone}, interval {seconds ≥ 10}, event {event_type, match?, debounce_secs} or webhook {}'),
  action: Action.describe('health_check, service_monitor, log_scan, memory_maintenance, generation_check, network_watch, command {command (absolute), args, timeout_secs}, webhook {url, method, body, headers}'),
  enabled: z.boolean().default(true),
  approval_id: ApprovalId.optional().describe('The approved approval, when repeating a gated call'),
})

export const RoutineUpdateInput = z.strictObject({
  id: RoutineId,
  name: Name.optional(),
  trigger: Trigger.optional(),
  action: Action.optional(),
  enabled: z.boolean().optional(),
  approval_id: ApprovalId.optional(),
})

export const RoutineHealth = HealthBase.extend({
  routine_count: z.number().int(),
  enabled_count: z.number().int(),
  running: z.number().int(),
  next_run_at: IsoTime.nullable(),
})

/** routines' routes (SPEC §2.4). */
export const routinesApi = {
  health: route('GET', '/health', {output: RoutineHealth, roles: OA}),
  reload: commonApi.reload,
  routineAdd: route('POST', '/routine/add', {input: RoutineAddInput, output: Routine.extend({webhook_secret: z.string().optional().describe('Returned once, for webhook triggers')}), roles: OA}),
  routineList: route('GET', '/routine/list', {
    input: z.strictObject({enabled: z.boolean().optional().describe('Only enabled (true) or disabled (false) routines')}),
    output: z.object({routines: z.array(Routine)}),
    roles: OA,
  }),
  routineHistory: route('GET', '/routine/history', {
    input: z.strictObject({
      routine_id: RoutineId.optional(),
      status: z.enum(RUN_STATUSES).optional(),
      limit: limit(50, 500),
      cursor: RunId.optional().describe('next_cursor of the previous page'),
    }),
    output: z.object({runs: z.array(Run), next_cursor: z.string().nullable()}),
    roles: OA,
  }),
  routineGet: route('GET', '/routine/{id}', {input: z.strictObject({id: RoutineId}), output: Routine.extend({runs: z.array(Run)}), roles: OA}),
  routineUpdate: route('PATCH', '/routine/{id}', {input: RoutineUpdateInput, output: Routine, roles: OA}),
  routineRemove: route('DELETE', '/routine/{id}', {input: z.strictObject({id: RoutineId, approval_id: ApprovalId.optional()}), output: z.object({removed: z.string()}), roles: OA}),
  routineTrigger: route('POST', '/routine/{id}/trigger', {
    input: z.strictObject({id: RoutineId, wait: z.boolean().default(true).describe('Wait for the run to finish (up to its timeout)')}),
    output: Run.partial().extend({run_id: RunId}),
    roles: OA,
  }),
  routineWebhook: route('POST', '/routine/{id}/webhook', {
    input: z.strictObject({
      id: RoutineId,
      body_base64: z.string().max(349_528).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64'),
      signature: z.string().max(128).regex(/^sha256=[0-9a-f]{64}$/, 'expected sha256=<64 hex>'),
    }),
    output: z.object({run_id: RunId}),
    roles: O,
    status: 202,
  }),
} as const

/** The routines route table's type. */
export type RoutinesApi = typeof routinesApi
