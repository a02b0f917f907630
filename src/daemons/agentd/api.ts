import {z} from 'zod'
import {commonApi} from '../../lib/daemon/common-api.js'
import {route} from '../../lib/rpc/route.js'
import {EventTypeFilter, Hex64, HealthBase, IsoTime, limit, Seq} from '../../lib/schema/primitives.js'
import {SystemQueryInput, SystemQueryOutputSchema} from './system/query-schema.js'
import {memoryApi} from './memory/api.js'
import {approvalApi} from './approvals/api.js'

export * from './memory/api.js'
import {agentCardApi} from './agent-card/api.js'
import {filesApi} from './files/api.js'
import {safetyApi} from './safety/api.js'
import {servicesApi} from './services/api.js'
import {execApi} from './exec/api.js'
import {sandboxApi} from './sandbox/api.js'

// The sandbox contract lives in its own folder; callers reach it through this module (import rule).
export {SandboxExecInput, SandboxExecOutput, sandboxClientTimeoutMs} from './sandbox/api.js'
import {capabilityApi} from './capability/api.js'
import {witnessApi} from './witness/api.js'

const O = ['operator'] as const
const OA = ['operator', 'agent'] as const

/** GET /health of agentd: the common fields plus the host's vital signs. */
export const AgentdHealth = HealthBase.extend({
  hostname: z.string(),
  cpu_count: z.number().int(),
  cpu_usage: z.array(z.number()).describe('Percent busy per core over the last 5 s sample'),
  memory_total: z.number(),
  memory_used: z.number(),
  memory_available: z.number(),
  swap_total: z.number(),
  swap_used: z.number(),
  load_average: z.object({one: z.number(), five: z.number(), fifteen: z.number()}),
  uptime: z.number().describe('Seconds since boot'),
  disks: z.array(z.object({mount_point: z.string(), filesystem: z.string(), total: z.number(), used: z.number(), available: z.number()})),
  ledger: z.object({
    size: z.number().int(),
    verify_state: z.enum(['pending', 'running', 'ok', 'failed']),
    first_bad_seq: z.number().int().nullable(),
    last_checkpoint_size: z.number().int().nullable(),
  }),
  sandbox: z.object({available: z.boolean(), reason: z.string().nullable()}),
  nix: z.object({available: z.boolean()}),
})

/** One ledger event as served by agentd. */
export const LedgerEventOut = z.object({
  seq: z.number().int(),
  ts: IsoTime,
  type: z.string(),
  actor: z.string(),
  payload: z.record(z.string(), z.unknown()),
  prev_hash: Hex64,
  hash: Hex64,
})

/** Input of GET /events/log (the `event_log` tool plus `order` and `follow`). */
export const EventLogInput = z.strictObject({
  type: EventTypeFilter.optional().describe('Exact event type such as "tool.called", or a domain prefix such as "switch.*"'),
  actor: z.string().min(1).max(128).optional().describe('Only events by this actor, e.g. "agentd", "agent:ops", "operator:alice"'),
  limit: limit(50, 1000),
  before: Seq.optional().describe('Only events with seq lower than this (page backwards with next_cursor)'),
  after: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional().describe('Only events with seq higher than this'),
  order: z.enum(['asc', 'desc']).optional().describe('Default desc (newest first); asc when `after` is set'),
  follow: z.boolean().default(false).describe('Stream new events as NDJSON (CLI and TUI; not for tools)'),
})

/** Output of GET /events/log. */
export const EventLogOutput = z.object({
  events: z.array(LedgerEventOut),
  next_cursor: z.string().nullable().describe('Pass as `before` (desc) or `after` (asc) to get the next page; null at the end'),
})

/** Input of POST /tool-calls: one MCP tool call, recorded as `tool.called`. */
export const ToolCallInput = z.strictObject({
  tool: z.string().regex(/^[a-z][a-z0-9_]{0,63}$|^[a-z0-9][a-z0-9-]{0,47}__[A-Za-z0-9_.-]{1,64}$/),
  toolset: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/),
  args_sha256: Hex64,
  outcome: z.enum(['ok', 'error', 'approval_required', 'denied']),
  error_code: z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/).nullable().optional(),
  duration_ms: z.number().min(0).max(86_400_000),
  session_id: z.string().max(64).nullable().optional(),
  request_id: z.string().max(64).nullable().optional(),
  approval_id: z.string().max(64).nullable().optional(),
})

const VerifyState = z.object({
  state: z.enum(['pending', 'running', 'ok', 'failed']),
  verified_through_seq: z.number().int(),
  first_bad_seq: z.number().int().nullable(),
  bad_count: z.number().int(),
  checked_at: IsoTime.nullable(),
})

/** A signed checkpoint (C2SP signed note) with its cosignatures. */
export const CheckpointOut = z.object({
  origin: z.string(),
  size: z.number().int(),
  root_hash: z.string().describe('Base64 RFC 9162 root over the first `size` event hashes'),
  ts: IsoTime,
  note: z.string().describe('The signed note text: keep it off-host and pass it to `osmoda verify-ledger --checkpoint`'),
  cosignatures: z.array(z.object({witness: z.string(), key_id: z.string(), cosignature: z.string(), ts: IsoTime})),
})

/** An incident id, `inc_<ULID>` (SPEC §1.9). */
export const IncidentId = z.string().regex(/^inc_[0-7][0-9A-HJKMNP-TV-Z]{25}$/, 'expected inc_ followed by a 26-character ULID')

/** A receipt id, `rcpt_<seq>` of the ledger event it views (SPEC §1.9). */
export const ReceiptId = z.string().regex(/^rcpt_[1-9][0-9]{0,15}$/, 'expected rcpt_<seq>, e.g. rcpt_42')

/** How bad an incident is. */
export const IncidentSeverity = z.enum(['low', 'medium', 'high', 'critical'])

/** A relative time input (SPEC §1.8): an RFC 3339 instant, or a duration back from now such as 24h or 7d. */
export const SinceInput = z
  .string()
  .max(64)
  .regex(/^([1-9][0-9]{0,8}[smhdw]|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2}))$/, 'expected a duration such as 30m, 24h, 7d, 2w or an RFC 3339 instant')
  .refine((text) => /^[0-9]+[smhdw]$/.test(text) || !Number.isNaN(Date.parse(text)), 'not a valid RFC 3339 instant')

/** One numbered step of an incident. */
export const IncidentStep = z.object({
  step_number: z.number().int().min(1),
  action: z.string(),
  result: z.string(),
  receipt_id: ReceiptId.nullable().describe('The ledger receipt (rcpt_<seq>) that proves this action, if any'),
  created_at: IsoTime,
})

/** An incident with its steps. */
export const Incident = z.object({
  id: IncidentId,
  name: z.string(),
  severity: IncidentSeverity,
  summary: z.string(),
  status: z.enum(['open', 'resolved']),
  steps: z.array(IncidentStep),
  created_at: IsoTime,
  resolved_at: IsoTime.nullable(),
})

/** An incident in a list: its step count instead of its steps. */
export const IncidentListItem = Incident.omit({steps: true}).extend({step_count: z.number().int().min(0)})

/** Input of POST /incident/create (the `incident_create` tool). */
export const IncidentCreateInput = z.strictObject({
  name: z.string().min(1).max(200).describe('Short title of what is wrong, e.g. "nginx returns 502 on /api"'),
  severity: IncidentSeverity.default('medium').describe('low | medium | high | critical (default medium)'),
  summary: z.string().max(2000).optional().describe('What was observed and its impact, at most 2000 characters'),
})

/** Input of POST /incident/{id}/step (the `incident_step` tool; `id` travels in the path). */
export const IncidentStepInput = z.strictObject({
  id: IncidentId.describe('The incident id returned by incident_create (inc_…)'),
  action: z.string().min(1).max(2000).describe('What you did or checked in this step'),
  result: z.string().max(8000).describe('What came of it: output, finding or outcome (may be empty)'),
  receipt_id: ReceiptId.optional().describe('The ledger event that proves the action, as rcpt_<seq> (see receipt_list / event_log)'),
  resolve: z.boolean().default(false).describe('Resolve the incident with this step; a resolved incident takes no more steps'),
})

/** Input of GET /incidents. */
export const IncidentListInput = z.strictObject({
  status: z.enum(['open', 'resolved', 'all']).default('open').describe('Which incidents (default open)'),
  limit: limit(50, 200),
  cursor: IncidentId.optional().describe('next_cursor of the previous page'),
})

/** A receipt: the proof-carrying view of one mutation event of the ledger. */
export const Receipt = z.object({
  id: ReceiptId,
  event_seq: z.number().int().min(1),
  receipt_type: z.string().describe('The ledger event type, e.g. file.written or switch.committed'),
  actor: z.string(),
  summary: z.string().describe('One line saying what happened'),
  detail: z.record(z.string(), z.unknown()).describe('The event payload as recorded'),
  timestamp: IsoTime,
  hash: Hex64.describe('The event hash: with event_seq it proves the receipt against a signed checkpoint (GET /ledger/proof/inclusion)'),
  reversible: z.boolean(),
  undo_action: z.string().nullable().describe('The osmoda CLI line that undoes it, or null'),
})

/** Input of GET /receipts (the `receipt_list` tool). */
export const ReceiptListInput = z.strictObject({
  type: EventTypeFilter.optional().describe('Exact type ("file.written"), a prefix "switch.*", or a bare domain "app"'),
  actor: z.string().min(1).max(128).optional().describe('Only receipts by this actor, e.g. "agent:ops", "operator:alice", "watch"'),
  since: SinceInput.optional().describe('Only receipts at or after this time: a duration back from now (30m, 24h, 7d) or an RFC 3339 instant'),
  limit: limit(50, 500),
  cursor: z.string().regex(/^[1-9][0-9]{0,15}$/, 'expected the next_cursor of the previous page').optional().describe('next_cursor of the previous page'),
})

/**
 * Longest `backup.timeoutSecs`. POST /backup/create's deadline is a config value the caller cannot
 * see, so clients wait this long plus 5 s and agentd's own deadline (504) answers first.
 */
export const MAX_BACKUP_TIMEOUT_SECS = 3600

/** Client timeout for POST /backup/create. */
export const BACKUP_CREATE_CLIENT_TIMEOUT_MS = (MAX_BACKUP_TIMEOUT_SECS + 5) * 1000

/** Input of POST /backup/create (tool `backup_create`). */
export const BackupCreateInput = z.strictObject({
  note: z.string().max(200).optional().describe('Why this backup is made, e.g. "before upgrading postgres" (at most 200 characters)'),
})

/** One backup archive as GET /backup/list shows it. */
export const BackupInfo = z.object({
  id: z.string().describe('bak_<ULID>; pass it to `osmoda backup restore` (operator, offline)'),
  path: z.string(),
  size_bytes: z.number().int(),
  sha256: Hex64.describe('SHA-256 of the .tar.gz archive'),
  created_at: IsoTime,
  note: z.string().nullable(),
})

/** Output of POST /backup/create. */
export const BackupCreateOutput = BackupInfo.extend({
  manifest: z.object({
    files: z.number().int().describe('Number of files in the archive (besides manifest.json)'),
    ledger_size: z.number().int().describe('Events in the archived ledger'),
    ledger_head_hash: Hex64.nullable().describe('Hash of the archived ledger head'),
  }),
})

/** agentd's routes: its own core here, each area's in `<area>/api.ts`, spread in. */
export const agentdApi = {
  health: route('GET', '/health', {output: AgentdHealth, roles: OA}),
  reload: commonApi.reload,
  systemQuery: route('POST', '/system/query', {input: SystemQueryInput, output: SystemQueryOutputSchema, roles: OA}),
  systemDiscover: route('GET', '/system/discover', {
    output: z.object({
      found: z.array(
        z.object({
          name: z.string(),
          pid: z.number().int().nullable(),
          port: z.number().int(),
          protocol: z.string(),
          detected_as: z.string().nullable(),
          health_url: z.string().nullable(),
          systemd_unit: z.string().nullable(),
          memory_bytes: z.number().nullable(),
          cpu_usage: z.number().nullable(),
        }),
      ),
      total_listening_ports: z.number().int(),
      total_systemd_services: z.number().int(),
      systemd: z.enum(['available', 'unavailable']),
    }),
    roles: OA,
  }),
  eventsLog: route('GET', '/events/log', {input: EventLogInput, output: EventLogOutput, roles: OA, stream: true}),
  toolCalls: route('POST', '/tool-calls', {input: ToolCallInput, output: z.object({seq: z.number().int()}), roles: OA}),
  ledgerStatus: route('GET', '/ledger/status', {
    output: z.object({
      size: z.number().int(),
      head_hash: Hex64.nullable(),
      verify: VerifyState,
      latest_checkpoint: z.object({size: z.number().int(), root_hash: z.string(), ts: IsoTime, cosignature_count: z.number().int()}).nullable(),
    }),
    roles: OA,
  }),
  ledgerCheckpoint: route('GET', '/ledger/checkpoint', {
    input: z.strictObject({size: z.number().int().min(1).optional().describe('Checkpoint tree size (default: the latest)')}),
    output: CheckpointOut,
    roles: OA,
  }),
  ledgerCheckpointNow: route('POST', '/ledger/checkpoint', {output: CheckpointOut, roles: O, summary: 'Sign a checkpoint of the current head now'}),
  ledgerCheckpoints: route('GET', '/ledger/checkpoints', {
    input: z.strictObject({limit: limit(50, 1000), cursor: z.string().regex(/^\d{1,16}$/).optional().describe('next_cursor of the previous page')}),
    output: z.object({checkpoints: z.array(CheckpointOut.omit({cosignatures: true}).extend({cosignature_count: z.number().int()})), next_cursor: z.string().nullable()}),
    roles: OA,
  }),
  ledgerProofInclusion: route('GET', '/ledger/proof/inclusion', {
    input: z.strictObject({seq: Seq, size: z.number().int().min(1)}),
    output: z.object({leaf_index: z.number().int(), tree_size: z.number().int(), leaf_hash: z.string(), hashes: z.array(z.string())}),
    roles: OA,
  }),
  ledgerProofConsistency: route('GET', '/ledger/proof/consistency', {
    input: z.strictObject({old: z.number().int().min(1), new: z.number().int().min(1)}),
    output: z.object({old_size: z.number().int(), new_size: z.number().int(), hashes: z.array(z.string())}),
    roles: OA,
  }),
  backupCreate: route('POST', '/backup/create', {input: BackupCreateInput, output: BackupCreateOutput, roles: OA}),
  backupList: route('GET', '/backup/list', {
    input: z.strictObject({limit: limit(50, 500)}),
    output: z.object({backups: z.array(BackupInfo)}),
    roles: OA,
  }),
  ledgerVerify: route('POST', '/ledger/verify', {
    input: z.strictObject({from: Seq.default(1), to: Seq.optional()}),
    output: z.object({state: z.literal('running')}),
    roles: O,
    status: 202,
  }),
  receiptList: route('GET', '/receipts', {
    input: ReceiptListInput,
    output: z.object({receipts: z.array(Receipt), next_cursor: z.string().nullable().describe('Pass as `cursor` for older receipts; null at the end')}),
    roles: OA,
  }),
  receiptGet: route('GET', '/receipts/{id}', {input: z.strictObject({id: ReceiptId}), output: Receipt, roles: OA}),
  incidentCreate: route('POST', '/incident/create', {input: IncidentCreateInput, output: Incident, roles: OA}),
  incidentStep: route('POST', '/incident/{id}/step', {input: IncidentStepInput, output: Incident, roles: OA}),
  incidentGet: route('GET', '/incident/{id}', {input: z.strictObject({id: IncidentId}), output: Incident, roles: OA}),
  incidentList: route('GET', '/incidents', {
    input: IncidentListInput,
    output: z.object({incidents: z.array(IncidentListItem), next_cursor: z.string().nullable().describe('Pass as `cursor` for older incidents; null at the end')}),
    roles: OA,
  }),
  ...memoryApi,
  ...approvalApi,
  ...agentCardApi,
  ...filesApi,
  ...servicesApi,
  ...safetyApi,
  ...execApi,
  ...sandboxApi,
  ...capabilityApi,
  ...witnessApi,
} as const

/** The agentd route table's type. */
export type AgentdApi = typeof agentdApi
