import {z} from 'zod'
import {route} from '../../lib/rpc/route.js'
import {IsoTime, limit} from '../../lib/schema/primitives.js'
import {AbsoluteExecutable, CheckArgs, HealthCheck} from '../../lib/health-checks.js'

const OA = ['operator', 'agent'] as const
const O = ['operator'] as const

// Same shape as api.ts's CommandStep (api.ts spreads this file's routes, so it cannot be imported from there).
const CommandStep = z.strictObject({command: AbsoluteExecutable, args: CheckArgs})

/** `fl_` + ULID. */
export const FleetId = z.string().regex(/^fl_[0-7][0-9A-HJKMNP-TV-Z]{25}$/, 'expected fl_ followed by a 26-character ULID')

/** A mesh peer id: `instance_id` = 32 lowercase hex characters (SPEC §2.5). */
export const PeerId = z.string().regex(/^[0-9a-f]{32}$/, 'expected a mesh peer id (32 lowercase hex characters)')

/** Proposal phases (SPEC §2.3). */
export const FLEET_PHASES = ['voting', 'executing', 'committed', 'rolled_back', 'aborted'] as const

/** A proposal phase. */
export type FleetPhase = (typeof FLEET_PHASES)[number]

/** Phases a proposal never leaves. */
export const FINAL_PHASES: readonly FleetPhase[] = ['committed', 'rolled_back', 'aborted']

/** A participant's progress. */
export const PARTICIPANT_STATUSES = ['pending', 'executing', 'committed', 'rolled_back', 'failed', 'unknown'] as const

/** A Nix store path: `/nix/store/<32-char hash>-<name>`. */
export const StorePath = z.string().regex(/^\/nix\/store\/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+._?=-]{1,211}$/, 'expected /nix/store/<hash>-<name>')

/**
 * A node-independent target: `nixos` built from a flake (`{hostname}` in the ref is replaced by each
 * node's hostname) or switched to one store path (a closure is the same bytes on every node that
 * has it, e.g. from a shared binary cache or `nix copy`; each node checks it is present before it
 * switches), or `commands`. Generations and /etc/nixos rebuilds differ per node and are refused.
 */
export const FleetTarget = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('nixos'),
    source: z.union([
      z.strictObject({
        flake: z
          .string()
          .regex(/^[^\s#\0]{1,400}#[A-Za-z0-9._{}-]{1,100}$/, 'expected <flake ref>#<host>')
          .describe('Flake ref and host; {hostname} is replaced by each node\'s hostname, e.g. /etc/nixos#{hostname}'),
      }),
      z.strictObject({store_path: StorePath.describe('A built system closure present on every node (binary cache or nix copy)')}),
    ]),
  }),
  z.strictObject({
    type: z.literal('commands'),
    apply: z.array(CommandStep).min(1).max(32).describe('Run in order on every node; a non-zero exit rolls that node back'),
    revert: z.array(CommandStep).max(32).describe('Run in reverse order to undo the change'),
  }),
])

/** A validated fleet target. */
export type FleetTarget = z.output<typeof FleetTarget>

/** One participant of a proposal; the proposer itself is `self` on its own node. */
export const FleetParticipant = z.object({
  peer_id: z.string(),
  vote: z.enum(['approve', 'deny']).nullable(),
  voted_at: IsoTime.nullable(),
  status: z.enum(PARTICIPANT_STATUSES),
  switch_id: z.string().nullable(),
})

/** A fleet proposal (SPEC §2.3). */
export const FleetProposal = z.object({
  id: FleetId,
  plan: z.string(),
  role: z.enum(['proposer', 'participant']),
  proposer: z.string(),
  target: FleetTarget,
  health_checks: z.array(HealthCheck),
  quorum_percent: z.number().int(),
  quorum_required: z.number().int(),
  timeout_secs: z.number().int(),
  phase: z.enum(FLEET_PHASES),
  reason: z.string().nullable(),
  participants: z.array(FleetParticipant),
  created_at: IsoTime,
  updated_at: IsoTime,
})

/** A proposal as routes return it. */
export type FleetProposal = z.output<typeof FleetProposal>

const Reason = z.string().max(500)

/** The messages watch exchanges over mesh (SPEC §2.3); `sender`, when present, must be the authenticated peer. */
export const FleetMessage = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('fleet_propose'),
    fleet_id: FleetId,
    sender: PeerId.optional(),
    plan: z.string().min(1).max(500),
    target: FleetTarget,
    health_checks: z.array(HealthCheck).max(32),
    quorum_percent: z.number().int().min(1).max(100),
    quorum_required: z.number().int().min(1).max(65),
    timeout_secs: z.number().int().min(30).max(3600),
    participants: z.array(PeerId).min(1).max(64),
  }),
  z.strictObject({type: z.literal('fleet_vote'), fleet_id: FleetId, sender: PeerId.optional(), approve: z.boolean(), reason: Reason.optional()}),
  z.strictObject({type: z.literal('fleet_execute'), fleet_id: FleetId, sender: PeerId.optional()}),
  z.strictObject({
    type: z.literal('fleet_result'),
    fleet_id: FleetId,
    sender: PeerId.optional(),
    status: z.enum(['committed', 'rolled_back', 'failed']),
    switch_id: z.string().max(64).nullable(),
    reason: Reason.optional(),
  }),
  z.strictObject({type: z.literal('fleet_rollback'), fleet_id: FleetId, sender: PeerId.optional(), reason: Reason}),
])

/** A validated fleet message. */
export type FleetMessage = z.output<typeof FleetMessage>

/** POST /fleet/propose: tool `fleet_propose`. */
export const FleetProposeInput = z.strictObject({
  plan: z.string().min(1).max(500).describe('What the fleet change does and why (shown to every node\'s operator and ledgered)'),
  target: FleetTarget.describe(
    'Node-independent target: {"type":"nixos","source":{"flake":"ref#{hostname}"}|{"store_path":"/nix/store/…"}} or {"type":"commands","apply":[{command (absolute), args}],"revert":[…]}',
  ),
  peer_ids: z
    .array(PeerId)
    .min(1)
    .max(64)
    .refine((ids) => new Set(ids).size === ids.length, 'peer ids must be distinct')
    .describe('Mesh peers that take part (1..64); this node is the proposer and the canary'),
  health_checks: z.array(HealthCheck).max(32).default([]).describe('Checks every node runs during its probation (≤32)'),
  quorum_percent: z.number().int().min(1).max(100).optional().describe('Percent of participants (proposer included) that must approve (1..100, default fleet.quorumPercent)'),
  timeout_secs: z.number().int().min(30).max(3600).optional().describe('Seconds voting stays open (30..3600, default fleet.timeoutSecs)'),
  approval_id: z.string().max(64).nullable().optional().describe('The approved approval id when repeating a call that returned APPROVAL_REQUIRED'),
})

/** GET /fleet/list. */
export const FleetListInput = z.strictObject({
  phase: z.enum(FLEET_PHASES).optional().describe('Only proposals in this phase'),
  limit: limit(20, 200),
  cursor: FleetId.optional().describe('next_cursor of the previous page'),
})

const ById = z.strictObject({id: FleetId})

/** POST /fleet/{id}/vote: tool `fleet_vote`. */
export const FleetVoteInput = ById.extend({
  approve: z.boolean().describe('true approves running the change on this node; false vetoes'),
  reason: Reason.optional().describe('Why (sent to the proposer)'),
  approval_id: z.string().max(64).nullable().optional().describe('The approved approval id when repeating a call that returned APPROVAL_REQUIRED'),
})

/** POST /fleet/inbound: mesh hands over a message from an authenticated peer. */
export const FleetInboundInput = z.strictObject({peer_id: PeerId.describe('The authenticated sender (set by mesh, never by the message)'), message: FleetMessage})

export const fleetApi = {
  fleetPropose: route('POST', '/fleet/propose', {input: FleetProposeInput, output: FleetProposal, roles: OA}),
  fleetList: route('GET', '/fleet/list', {input: FleetListInput, output: z.object({proposals: z.array(FleetProposal), next_cursor: z.string().nullable()}), roles: OA}),
  fleetGet: route('GET', '/fleet/{id}', {input: ById, output: FleetProposal, roles: OA}),
  fleetVote: route('POST', '/fleet/{id}/vote', {input: FleetVoteInput, output: FleetProposal, roles: OA}),
  fleetRollback: route('POST', '/fleet/{id}/rollback', {input: ById.extend({reason: Reason.optional().describe('Why the fleet change is rolled back')}), output: FleetProposal, roles: OA}),
  fleetInbound: route('POST', '/fleet/inbound', {input: FleetInboundInput, output: z.object({accepted: z.boolean()}), roles: O}),
} as const
