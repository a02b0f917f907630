import {z} from 'zod'
import {route} from '../../lib/rpc/route.js'
import {HealthBase, IsoTime, limit} from '../../lib/schema/primitives.js'
import {AbsoluteExecutable, CheckArgs, HealthCheck} from '../../lib/health-checks.js'
import {ReloadOutput} from '../../lib/daemon/common-api.js'
import {watcherApi} from './watcher-api.js'
import {fleetApi, StorePath} from './fleet-api.js'

const O = ['operator'] as const
const OA = ['operator', 'agent'] as const

/** `sw_` + ULID. */
export const SwitchId = z.string().regex(/^sw_[0-7][0-9A-HJKMNP-TV-Z]{25}$/, 'expected sw_ followed by a 26-character ULID')

/** Session states (SPEC §2.3). */
export const SWITCH_STATUSES = ['building', 'built', 'activating', 'probation', 'committed', 'rolling_back', 'rolled_back', 'rollback_failed', 'failed'] as const

/** A session state. */
export type SwitchStatus = (typeof SWITCH_STATUSES)[number]

/** States in which a session holds the one SafeSwitch slot. */
export const ACTIVE_STATUSES: readonly SwitchStatus[] = ['building', 'activating', 'probation', 'rolling_back']

/** States a session never leaves. */
export const FINAL_STATUSES: readonly SwitchStatus[] = ['built', 'committed', 'rolled_back', 'rollback_failed', 'failed']


/** One argv step of a `commands` target. */
export const CommandStep = z.strictObject({command: AbsoluteExecutable, args: CheckArgs})

const NixSource = z.union([
  z.strictObject({flake: z.string().regex(/^[^\s#\0]{1,400}#[A-Za-z0-9._{}-]{1,100}$/, 'expected <flake ref>#<host>').describe('Flake ref and host, e.g. /etc/nixos#web1')}),
  z.strictObject({config: z.literal(true).describe('Build /etc/nixos/configuration.nix')}),
  z.strictObject({store_path: StorePath.describe('An already-built system closure')}),
  z.strictObject({generation: z.number().int().min(1).max(1_000_000).describe('An existing generation number of the system profile')}),
])

/** A file edit applied before the build and restored on rollback (paths under /etc/nixos). */
export const NixEdit = z.strictObject({
  path: z
    .string()
    .max(4096)
    .regex(/^\/etc\/nixos\/[^\0]+$/, 'must be under /etc/nixos/')
    .refine((p) => !p.split('/').includes('..') && !p.split('/').includes('.'), 'must not contain . or .. segments'),
  content: z.string().max(262_144),
})

/** What a switch changes (SPEC §2.3 Target). */
export const Target = z.discriminatedUnion('type', [
  z.strictObject({type: z.literal('nixos'), source: NixSource, edits: z.array(NixEdit).max(16).optional()}),
  z.strictObject({
    type: z.literal('commands'),
    apply: z.array(CommandStep).min(1).max(32).describe('Run in order to make the change; a non-zero exit rolls back'),
    revert: z.array(CommandStep).max(32).describe('Run in reverse order to undo the change'),
  }),
])

/** A validated target. */
export type Target = z.output<typeof Target>

/** A baseline check: a daemon's GET /health answering (hosts without systemd) or its unit active. */
export const BaselineCheck = z.object({type: z.literal('daemon_health'), daemon: z.string()})

/** One check's verdict in a probation tick. */
export const CheckResult = z.object({check: z.union([HealthCheck, BaselineCheck]), ok: z.boolean(), detail: z.string(), duration_ms: z.number().int()})

/** A SafeSwitch session (SPEC §2.3). */
export const SwitchSession = z.object({
  id: SwitchId,
  plan: z.string(),
  target: Target,
  status: z.enum(SWITCH_STATUSES),
  previous_generation: z.number().int().nullable(),
  previous_system: z.string().nullable(),
  target_system: z.string().nullable(),
  target_generation: z.number().int().nullable(),
  ttl_secs: z.number().int(),
  grace_secs: z.number().int(),
  failure_threshold: z.number().int(),
  check_interval_secs: z.number().int(),
  health_checks: z.array(HealthCheck),
  baseline_checks: z.boolean(),
  consecutive_failures: z.number().int(),
  last_check_at: IsoTime.nullable(),
  last_check_results: z.array(CheckResult),
  diff: z.string().nullable(),
  started_at: IsoTime,
  activated_at: IsoTime.nullable(),
  probation_ends_at: IsoTime.nullable(),
  ended_at: IsoTime.nullable(),
  reason: z.string().nullable(),
  actor: z.string(),
})

/** A session as routes return it. */
export type SwitchSession = z.output<typeof SwitchSession>

/** POST /switch/begin: tool `safe_switch_begin`. */
export const SwitchBeginInput = z.strictObject({
  plan: z.string().min(1).max(500).describe('What this switch does and why, one or two sentences (shown to the operator and ledgered)'),
  target: Target.default({type: 'nixos', source: {config: true}}).describe(
    'What to switch to: {"type":"nixos","source":{"store_path":"/nix/store/…"}|{"generation":N}|{"flake":"ref#host"}|{"config":true}, "edits"?:[{path under /etc/nixos, content}]} ' +
      'or {"type":"commands","apply":[{command (absolute), args}],"revert":[…]} for non-Nix changes. Default: rebuild /etc/nixos/configuration.nix',
  ),
  ttl_secs: z.number().int().min(30).max(86_400).optional().describe('Probation length in seconds (30..86400, default 300): the checks must still pass at its end for the switch to commit'),
  health_checks: z
    .array(HealthCheck)
    .max(32)
    .default([])
    .describe('Checks run every interval during probation (≤32): systemd_unit {unit}, tcp_port {host, port}, http_get {url, expect_status, timeout_secs}, command {command (absolute), args, timeout_secs}'),
  grace_secs: z.number().int().min(0).max(3600).optional().describe('Seconds after activation during which failing checks do not count (0..3600, default 30)'),
  failure_threshold: z.number().int().min(1).max(100).optional().describe('Consecutive failing ticks that trigger a rollback (1..100, default 3)'),
  check_interval_secs: z.number().int().min(1).max(300).optional().describe('Seconds between probation ticks (1..300, default 5)'),
  baseline_checks: z.boolean().default(true).describe('Also require osmoda-agentd and osmoda-watch to be healthy (default true)'),
  dry_run: z.boolean().default(false).describe('Build only and report the closure diff; nothing is activated'),
  approval_id: z.string().max(64).nullable().optional().describe('The approved approval id when repeating a call that returned APPROVAL_REQUIRED'),
})

/** GET /switch/list: tool `safe_switch_list`. */
export const SwitchListInput = z.strictObject({
  status: z.enum(SWITCH_STATUSES).optional().describe('Only sessions in this state'),
  limit: limit(20, 200),
  cursor: SwitchId.optional().describe('next_cursor of the previous page'),
})

/** GET /health of watch. */
export const WatchHealth = HealthBase.extend({
  active_switches: z.number().int(),
  nix_available: z.boolean(),
  system_profile: z.string(),
  current_generation: z.number().int().nullable(),
  current_system: z.string().nullable(),
  watchers: z
    .object({total: z.number().int(), healthy: z.number().int(), degraded: z.number().int(), recovering: z.number().int(), escalated: z.number().int(), breaker_open: z.number().int()})
    .describe('Watchers by state'),
})

const ById = z.strictObject({id: SwitchId})

export const watchApi = {
  health: route('GET', '/health', {output: WatchHealth, roles: OA}),
  reload: route('POST', '/reload', {output: ReloadOutput, roles: O}),
  switchBegin: route('POST', '/switch/begin', {input: SwitchBeginInput, output: SwitchSession, roles: OA, status: 202}),
  switchList: route('GET', '/switch/list', {input: SwitchListInput, output: z.object({switches: z.array(SwitchSession), next_cursor: z.string().nullable()}), roles: OA}),
  switchGet: route('GET', '/switch/{id}', {input: ById, output: SwitchSession, roles: OA}),
  switchCommit: route('POST', '/switch/{id}/commit', {input: ById, output: SwitchSession, roles: OA}),
  switchRollback: route('POST', '/switch/{id}/rollback', {input: ById.extend({reason: z.string().max(500).optional().describe('Why the switch is rolled back')}), output: SwitchSession, roles: OA}),
  ...watcherApi,
  ...fleetApi,
} as const

/** watch's route table. */
export type WatchApi = typeof watchApi
