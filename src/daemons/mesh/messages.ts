import {z} from 'zod'
import {canonicalJson} from '../../lib/ledger/canonical-json.js'
import {IdentityDoc} from './identity.js'

/** Size cap of a message handed to POST /peer/{id}/send (SPEC §2.5). */
export const SEND_MAX_BYTES = 32 * 1024
/** Size cap of a relayed fleet message (watch's proposals carry targets and checks). */
export const FLEET_MAX_BYTES = 256 * 1024

/** The fleet message types watch sends and receives through mesh (SPEC §2.3). */
export const FLEET_TYPES = ['fleet_propose', 'fleet_vote', 'fleet_execute', 'fleet_result', 'fleet_rollback'] as const

const Pct = z.number().min(0).max(100)

/** `chat{text}`. */
export const ChatMessage = z.strictObject({type: z.literal('chat'), text: z.string().min(1).max(16_384).describe('The text to deliver')})
/** `alert{severity, title, detail}`; critical alerts become a notification on the receiver. */
export const AlertMessage = z.strictObject({
  type: z.literal('alert'),
  severity: z.enum(['info', 'warning', 'critical']),
  title: z.string().min(1).max(200),
  detail: z.string().max(8192).default(''),
})
/** `health_report{hostname, cpu_pct, memory_pct, disk_pct, uptime_secs}`. */
export const HealthReportMessage = z.strictObject({
  type: z.literal('health_report'),
  hostname: z.string().min(1).max(253),
  cpu_pct: Pct,
  memory_pct: Pct,
  disk_pct: Pct,
  uptime_secs: z.number().int().min(0).max(1e12),
})
/** `command{name}`: asks the peer to run one of its `commandAllow` entries by name. */
export const CommandRequest = z.strictObject({type: z.literal('command'), name: z.string().min(1).max(64).describe("A name from the peer's commandAllow list")})

/** What POST /peer/{id}/send accepts from any caller. */
export const SendableMessage = z.discriminatedUnion('type', [ChatMessage, AlertMessage, HealthReportMessage, CommandRequest])
/** A fleet message relayed for watch (operator role only); watch validates its own fields. */
export const FleetEnvelope = z.looseObject({type: z.enum(FLEET_TYPES)})

/** The message field of POST /peer/{id}/send. */
export const SendInputMessage = z
  .union([SendableMessage, FleetEnvelope])
  .superRefine((message, ctx) => {
    const bytes = Buffer.byteLength(safeCanonical(message))
    const max = message.type.startsWith('fleet_') ? FLEET_MAX_BYTES : SEND_MAX_BYTES
    if (bytes > max) ctx.addIssue({code: 'custom', message: `message is ${bytes} bytes of canonical JSON, at most ${max}`})
  })
  .describe('{type:"chat", text} | {type:"alert", severity, title, detail} | {type:"health_report", hostname, cpu_pct, memory_pct, disk_pct, uptime_secs} | {type:"command", name} (≤ 32 KiB)')

function safeCanonical(value: unknown): string {
  try {
    return canonicalJson(value)
  } catch {
    return '\u0000'.repeat(FLEET_MAX_BYTES + 1)
  }
}

/** Inbound `command{id, name}` as it travels (the sender adds the id). */
export const WireCommand = z.strictObject({type: z.literal('command'), id: z.string().min(1).max(64), name: z.string().min(1).max(64)})
/** Inbound `command_result{id, ok, exit_code, output}`. */
export const WireCommandResult = z.strictObject({
  type: z.literal('command_result'),
  id: z.string().min(1).max(64),
  ok: z.boolean(),
  exit_code: z.number().int().nullable(),
  output: z.string().max(65_536),
})
/** `key_rotation{identity, sig}`: the peer's new identity, vouched for by its pinned Ed25519 key. */
export const WireKeyRotation = z.strictObject({type: z.literal('key_rotation'), old_instance_id: z.string().regex(/^[0-9a-f]{32}$/), identity: IdentityDoc, sig: z.string().regex(/^[A-Za-z0-9_-]{86}$/)})

/** The inbound types mesh itself validates and acts on. */
export const CORE_INBOUND = {
  chat: ChatMessage,
  alert: AlertMessage,
  health_report: HealthReportMessage,
  command: WireCommand,
  command_result: WireCommandResult,
  key_rotation: WireKeyRotation,
} as const
