import {z} from 'zod'
import {route} from '../../../lib/rpc/route.js'

/*
 * The agent card (SPEC §2.1 GET /agent/card, §2.10 GET /.well-known/agent-card.json).
 *
 * Field sets follow the A2A v1.0 specification (a2aproject/A2A, specification/a2a.proto messages
 * AgentCard, AgentInterface, AgentCapabilities, AgentSkill, SecurityScheme/HTTPAuthSecurityScheme,
 * SecurityRequirement, AgentCardSignature, in their proto-JSON camelCase form; docs/specification.md
 * §4.4 and §8.4) and the ERC-8004 agent registration file (https://eips.ethereum.org/EIPS/eip-8004,
 * "Agent URI and agent registration file": type, name, description, image, services, x402Support,
 * active, registrations, supportedTrust).
 *
 * Card schemas are loose objects: the RPC server re-parses every output with its schema, and a
 * field this schema did not list would otherwise be stripped and break the signature.
 */

const NoControl = (max: number) =>
  z
    .string()
    .max(max)
    .refine((text) => ![...text].some((c) => c < ' ' || c === '\u007f'), 'no control characters')

/** One A2A interface: where and how a client talks to the agent. */
export const AgentInterface = z.looseObject({
  url: z.string(),
  protocolBinding: z.string().describe('JSONRPC, GRPC or HTTP+JSON'),
  protocolVersion: z.string().describe('A2A version of this interface, e.g. "1.0"'),
  tenant: z.string().optional(),
})

/** One A2A skill: a focused ability the agent advertises. */
export const AgentSkill = z.looseObject({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  tags: z.array(z.string()),
  examples: z.array(z.string()).optional(),
  inputModes: z.array(z.string()).optional(),
  outputModes: z.array(z.string()).optional(),
})

/** A JWS (RFC 7515) over the card, detached payload: base64url protected header and signature. */
export const AgentCardSignature = z.looseObject({
  protected: z.string().describe('base64url of the JWS protected header {alg:"EdDSA", typ:"JOSE", kid}'),
  signature: z.string().describe('base64url Ed25519 signature over protected "." base64url(JCS of the card without signatures)'),
  header: z.record(z.string(), z.unknown()).optional(),
})

/** The A2A v1.0 AgentCard as osmoda builds it. */
export const AgentCard = z.looseObject({
  name: z.string(),
  description: z.string(),
  supportedInterfaces: z.array(AgentInterface).min(1),
  version: z.string(),
  capabilities: z.looseObject({
    streaming: z.boolean().optional(),
    pushNotifications: z.boolean().optional(),
    extendedAgentCard: z.boolean().optional(),
  }),
  securitySchemes: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  securityRequirements: z.array(z.record(z.string(), z.unknown())).optional(),
  defaultInputModes: z.array(z.string()),
  defaultOutputModes: z.array(z.string()),
  skills: z.array(AgentSkill),
  iconUrl: z.string().optional(),
  signatures: z.array(AgentCardSignature).optional(),
})

/** Input form of one ERC-8004 service entry. */
export const CardService = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected a service name such as mcp, a2a, web or agentWallet (letters, digits, . _ -; at most 64)')
    .describe('Service kind, e.g. "mcp", "a2a", "web", "ens", "did", "agentWallet"'),
  endpoint: NoControl(2048)
    .regex(/^[A-Za-z][A-Za-z0-9+.-]*:\S/, 'expected a URI such as https://host/path, unix:/run/osmoda/x.sock or stdio:osmoda mcp')
    .describe('Where the service is reached: a URI such as https://…, unix:/path or stdio:<command>'),
  version: NoControl(64).min(1).describe('Protocol or service version, e.g. "2025-11-25" for MCP, "1.0" for A2A'),
})

/** The ERC-8004 agent registration file. */
export const AgentRegistration = z.looseObject({
  type: z.literal('https://eips.ethereum.org/EIPS/eip-8004#registration-v1'),
  name: z.string(),
  description: z.string(),
  image: z.string().nullable(),
  services: z.array(z.object({name: z.string(), endpoint: z.string(), version: z.string()})),
  x402Support: z.boolean(),
  active: z.boolean(),
  registrations: z.array(z.looseObject({agentId: z.number().int(), agentRegistry: z.string()})),
  supportedTrust: z.array(z.string()),
})

/** The registration as published: signed like the card (ERC-8004 has no signature of its own). */
export const SignedAgentRegistration = AgentRegistration.extend({
  signatures: z.array(AgentCardSignature).min(1).describe('JWS (EdDSA, node key) over the canonical registration, as for the card'),
})

/** Output of both card routes and the content of `<state>/agentd/agent-card.json`. */
export const AgentCardBundle = z.object({
  card: AgentCard.describe('The signed A2A v1.0 agent card (served publicly by the gateway at /.well-known/agent-card.json)'),
  registration: SignedAgentRegistration.describe('The ERC-8004 registration file for this agent, signed with the node key'),
})

/** Input of POST /agent/card/generate: the `agent_card` tool's parameters minus `action`. */
export const AgentCardGenerateInput = z.strictObject({
  name: NoControl(100)
    .min(1)
    .refine((name) => name.trim().length > 0, 'must not be blank')
    .optional()
    .describe('Agent name on the card (1..100 characters; default agentCard.name, "osmoda")'),
  description: z
    .string()
    .max(1000)
    .refine((text) => ![...text].some((c) => (c < ' ' && c !== '\n' && c !== '\t') || c === '\u007f'), 'no control characters besides newline and tab')
    .optional()
    .describe('What this agent does, at most 1000 characters (default agentCard.description)'),
  services: z
    .array(CardService)
    .max(16)
    .optional()
    .describe('ERC-8004 services to advertise (at most 16); omit to advertise the defaults: mcp, a2a, and safeswitch/wallet when those daemons run'),
  approval_id: z.string().min(1).max(64).optional().describe('The approved approval (apr_…) when repeating a call that returned APPROVAL_REQUIRED'),
})

const OA = ['operator', 'agent'] as const

/** agentd's agent-card routes. */
export const agentCardApi = {
  agentCardGet: route('GET', '/agent/card', {output: AgentCardBundle, roles: OA}),
  agentCardGenerate: route('POST', '/agent/card/generate', {
    input: AgentCardGenerateInput,
    output: AgentCardBundle,
    roles: OA,
    summary: 'Build, sign and store the agent card and ERC-8004 registration',
  }),
} as const
