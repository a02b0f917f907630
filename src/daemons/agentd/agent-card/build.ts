import type {z} from 'zod'
import {DAEMON_NAMES, type DaemonName} from '../../../lib/paths.js'
import type {AgentCard, AgentRegistration, CardService} from './api.js'
import {withoutDefaults} from './signature.js'

/** The A2A protocol version the card's interface declares. */
export const A2A_PROTOCOL_VERSION = '1.0'
/** The MCP protocol version `osmoda mcp` speaks first (SPEC §3). */
export const MCP_PROTOCOL_VERSION = '2025-11-25'
/** ERC-8004 registration file type. */
export const ERC8004_REGISTRATION_TYPE = 'https://eips.ethereum.org/EIPS/eip-8004#registration-v1'

type Skill = z.input<typeof AgentCard>['skills'][number]
type Service = z.output<typeof CardService>

/** The skill each daemon contributes when it is enabled (one skill per daemon: what it lets the agent do). */
export const DAEMON_SKILLS: Readonly<Record<DaemonName, Skill>> = {
  agentd: {
    id: 'system-administration',
    name: 'System administration',
    description:
      'Inspects and manages this Linux server through typed, audited tools: health, processes, services, journal, network, files, ' +
      'commands (sandboxed, or on the host after operator approval), memory, incidents, receipts and backups. Every action is ' +
      'recorded in a hash-chained, signed ledger.',
    tags: ['linux', 'sysadmin', 'monitoring', 'incident-response', 'audit'],
  },
  keyd: {
    id: 'wallet',
    name: 'Policy-gated wallets',
    description: 'Holds ETH and SOL wallets and signs, builds and sends transactions only within the operator\'s wallet policy.',
    tags: ['wallet', 'ethereum', 'solana', 'signing'],
  },
  watch: {
    id: 'safeswitch',
    name: 'SafeSwitch and watchers',
    description: 'Switches NixOS generations behind health checks with automatic rollback, and watches services with automatic remediation.',
    tags: ['nixos', 'deploy', 'rollback', 'self-healing'],
  },
  routines: {
    id: 'routines',
    name: 'Routines',
    description: 'Runs scheduled, interval and event-triggered routines and keeps their history.',
    tags: ['cron', 'automation', 'schedule'],
  },
  mesh: {
    id: 'mesh',
    name: 'Server mesh',
    description: 'Talks to peer osmoda servers over an encrypted post-quantum Noise mesh and witnesses their ledger checkpoints.',
    tags: ['mesh', 'peers', 'post-quantum', 'witness'],
  },
  mcpd: {
    id: 'mcp-servers',
    name: 'Managed MCP servers',
    description: 'Runs third-party MCP servers under supervision and offers their tools.',
    tags: ['mcp', 'tools', 'integration'],
  },
  teachd: {
    id: 'learning',
    name: 'Learning loop',
    description: 'Learns from observed operations: patterns, knowledge documents, optimisation suggestions and generated skills.',
    tags: ['learning', 'knowledge', 'skills'],
  },
  voice: {
    id: 'voice',
    name: 'Local voice',
    description: 'Transcribes speech and speaks replies locally, without a cloud service.',
    tags: ['voice', 'speech-to-text', 'text-to-speech'],
  },
  egress: {
    id: 'egress',
    name: 'Controlled egress',
    description: 'Gives sandboxed tools network access only to allowlisted domains, under capability tokens.',
    tags: ['network', 'sandbox', 'allowlist'],
  },
  gateway: {
    id: 'chat',
    name: 'Chat and channels',
    description: 'Answers chat over HTTP, WebSocket and messaging channels, with sessions, request receipts and wedge recovery.',
    tags: ['chat', 'http', 'websocket', 'telegram', 'whatsapp'],
  },
}

/** What the card is built from: settings, the facts of this node, and the daemons found enabled. */
export interface CardFacts {
  name: string
  description: string
  image: string | null
  /** osmoda's version: the agent's version on the card. */
  version: string
  /** Daemons enabled on this node (see enabled-daemons.ts for the rule). */
  daemons: readonly DaemonName[]
  /** Base URL of the gateway, e.g. http://127.0.0.1:18789. */
  gatewayUrl: string
  /** Socket path of a daemon, for the unix: service endpoints. */
  socket(name: DaemonName): string
  /** Services given by the caller; undefined → the defaults. */
  services?: readonly Service[]
}

/**
 * The default ERC-8004 services (SPEC §2.1): `mcp` and `a2a` always, `safeswitch` (watch) and
 * `wallet` (keyd) only when those daemons are enabled, with endpoints from their real socket paths.
 */
export function defaultServices(facts: Omit<CardFacts, 'services' | 'name' | 'description' | 'image'>): Service[] {
  const services: Service[] = [
    {name: 'mcp', endpoint: 'stdio:osmoda mcp', version: MCP_PROTOCOL_VERSION},
    {name: 'a2a', endpoint: `${facts.gatewayUrl}/.well-known/agent-card.json`, version: A2A_PROTOCOL_VERSION},
  ]
  if (facts.daemons.includes('watch')) services.push({name: 'safeswitch', endpoint: `unix:${facts.socket('watch')}`, version: facts.version})
  if (facts.daemons.includes('keyd')) services.push({name: 'wallet', endpoint: `unix:${facts.socket('keyd')}`, version: facts.version})
  return services
}

/**
 * Builds the unsigned A2A card and the ERC-8004 registration. Skills are exactly the enabled
 * daemons' skills, in daemon order; the card is returned without default values so that what is
 * published is byte for byte what is signed (A2A §8.4.1).
 */
export function buildAgentCard(facts: CardFacts): {card: z.input<typeof AgentCard>; registration: z.input<typeof AgentRegistration>} {
  const skills = DAEMON_NAMES.filter((name) => facts.daemons.includes(name)).map((name) => DAEMON_SKILLS[name])
  const card = withoutDefaults({
    name: facts.name,
    description: facts.description,
    supportedInterfaces: [{url: facts.gatewayUrl, protocolBinding: 'HTTP+JSON', protocolVersion: A2A_PROTOCOL_VERSION}],
    version: facts.version,
    capabilities: {streaming: true},
    securitySchemes: {
      bearer: {httpAuthSecurityScheme: {scheme: 'Bearer', description: 'An osmoda operator or agent token (osm_op_… / osm_ag_…)'}},
    },
    securityRequirements: [{schemes: {bearer: {}}}],
    defaultInputModes: ['text/plain', 'application/json'],
    defaultOutputModes: ['text/plain', 'application/json'],
    skills,
    ...(facts.image ? {iconUrl: facts.image} : {}),
  })
  const registration: z.input<typeof AgentRegistration> = {
    type: ERC8004_REGISTRATION_TYPE,
    name: facts.name,
    description: facts.description,
    image: facts.image,
    services: [...(facts.services ?? defaultServices(facts))],
    x402Support: false,
    active: true,
    registrations: [],
    supportedTrust: ['eip-8004', 'hash-chain-ledger'],
  }
  return {card, registration}
}
