import {z} from 'zod'
import {route} from '../../../lib/rpc/route.js'

const OA = ['operator', 'agent'] as const

const ApprovalId = z
  .string()
  .regex(/^apr_[0-7][0-9A-HJKMNP-TV-Z]{25}$/, 'expected apr_ followed by a 26-character ULID')
  .describe('The approved approval (apr_…) when repeating a call that answered APPROVAL_REQUIRED')

const Reason = z.string().max(500).describe('Why, in one line; shown to the operator and kept in the ledger')

/** The host's vital signs in a safety status (a subset of agentd GET /health). */
export const SafetyHealth = z.object({
  status: z.enum(['ok', 'degraded', 'starting', 'unknown']).describe('agentd\'s health status; "unknown" when agentd is unreachable'),
  problems: z.array(z.string()),
  hostname: z.string(),
  cpu_count: z.number().int(),
  load_average: z.object({one: z.number(), five: z.number(), fifteen: z.number()}),
  memory_total: z.number(),
  memory_used: z.number(),
  memory_available: z.number(),
  swap_total: z.number(),
  swap_used: z.number(),
  uptime: z.number().describe('Seconds since boot'),
  disks: z.array(z.object({mount_point: z.string(), filesystem: z.string(), total: z.number(), used: z.number(), available: z.number()})),
})

/** Output of GET /safety/status, and of its local fallback when agentd is down. */
export const SafetyStatus = z.object({
  source: z.enum(['agentd', 'local']).describe('"local": agentd was unreachable and these facts were read on this host directly'),
  agentd: z.enum(['reachable', 'unreachable']),
  health: SafetyHealth,
  services: z.record(z.string(), z.string()).describe('"osmoda-<name>" → active_state (systemd), or active/inactive by whether its socket answers'),
  services_source: z.enum(['systemd', 'sockets']),
  generation: z
    .object({current: z.number().int().nullable(), previous: z.number().int().nullable(), booted: z.number().int().nullable()})
    .nullable()
    .describe('NixOS system generations; `previous` is what safety_rollback switches to; null without a Nix system profile'),
  ledger: z.object({size: z.number().int(), verify_state: z.string()}).nullable().describe('null when agentd is unreachable'),
  pending_approvals: z.number().int().nullable().describe('Unexpired pending approvals; null when agentd is unreachable'),
  listening_ports: z
    .array(z.object({proto: z.enum(['tcp', 'udp']), address: z.string(), port: z.number().int(), pid: z.number().int().nullable(), process: z.string().nullable()}))
    .optional()
    .describe('Local fallback only: what listens on this host'),
})

/** Input of POST /safety/rollback (tool `safety_rollback`). */
export const SafetyRollbackInput = z.strictObject({reason: Reason.optional(), approval_id: ApprovalId.optional()})

/** Input of POST /safety/panic (tool `safety_panic`). */
export const SafetyPanicInput = z.strictObject({
  reason: Reason.optional(),
  rollback: z.boolean().default(true).describe('Also roll back to the previous NixOS generation after stopping the services (default true)'),
  approval_id: ApprovalId.optional(),
})

/** Output of POST /safety/rollback. */
export const SafetyRollbackOutput = z.object({
  from_generation: z.number().int(),
  to_generation: z.number().int(),
  unit: z.string().nullable().describe('The transient unit running the rollback; null where systemd is not PID 1 (run directly by agentd)'),
})

/** agentd's safety routes: status, rollback, panic, restart (SPEC §2.1 Safety). */
export const safetyApi = {
  safetyStatus: route('GET', '/safety/status', {output: SafetyStatus, roles: OA}),
  safetyRollback: route('POST', '/safety/rollback', {input: SafetyRollbackInput, output: SafetyRollbackOutput, roles: OA, status: 202}),
  safetyPanic: route('POST', '/safety/panic', {
    input: SafetyPanicInput,
    output: z.object({stopping: z.array(z.string()).describe('Units being stopped, in order; the gateway last'), rollback: z.boolean()}),
    roles: OA,
    status: 202,
  }),
  safetyRestart: route('POST', '/safety/restart', {
    output: z.object({unit: z.literal('osmoda-gateway.service'), delay_secs: z.number().int()}),
    roles: OA,
    status: 202,
  }),
} as const
