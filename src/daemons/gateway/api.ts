import {z} from 'zod'
import {ReloadOutput} from '../../lib/daemon/common-api.js'
import {route} from '../../lib/rpc/route.js'
import {HealthBase, IsoTime, limit} from '../../lib/schema/primitives.js'
import {AgentId, AgentInput, AgentPatch, AgentProfile, AgentsPut, Binding, CHANNELS, CredentialId} from './agents-file.js'
import {CredentialInput, CredentialLabel, CredentialView} from './credentials.js'

const O = ['operator'] as const
const OA = ['operator', 'agent'] as const

export const RequestId = z.string().regex(/^req_[0-7][0-9A-HJKMNP-TV-Z]{25}$/, 'expected req_<ULID>').describe('Gateway request id')
export const SessionId = z.string().regex(/^ses_[0-7][0-9A-HJKMNP-TV-Z]{25}$/, 'expected ses_<ULID>')
export const SessionKey = z.string().min(1).max(200).regex(/^[A-Za-z0-9:._@+-]+$/, 'letters, digits and :._@+- only')

const RequestStatus = z.enum(['accepted', 'in_progress', 'completed', 'failed', 'superseded'])
const RequestAction = z.enum(['chat_message', 'agent_restart', 'key_delivery'])

/** A request receipt (SPEC §2.10 "Requests and events"). */
export const Receipt = z.object({
  request_id: z.string(),
  action: RequestAction,
  status: RequestStatus,
  agent_id: z.string().nullable(),
  session_id: z.string().nullable(),
  channel: z.string().nullable(),
  created_at: IsoTime,
  updated_at: IsoTime,
  progress: z.object({phase: z.enum(['starting', 'streaming', 'tool']), frames: z.number().int(), tool: z.string().nullable(), target: z.string().nullable(), elapsed_ms: z.number().int()}).nullable(),
  result: z.object({reply_chars: z.number().int(), tools_used: z.number().int(), duration_ms: z.number().int()}).nullable(),
  failure: z.object({code: z.string(), message: z.string()}).nullable(),
})

export const AgentsDocOut = z.object({version: z.literal(1), agents: z.array(AgentProfile), bindings: z.array(Binding)})

/** GET /health with a token: the common fields plus the operator view. */
export const GatewayHealth = HealthBase.extend({
  drivers: z.array(z.object({name: z.string(), available: z.boolean(), version: z.string().nullable()})).optional(),
  agents: z.array(z.object({id: z.string(), runtime: z.string(), model: z.string(), enabled: z.boolean(), agent_wedged: z.boolean()})).optional(),
  credentials_count: z.number().int().nullable().optional(),
  sessions: z.number().int().optional(),
  active_requests: z.number().int().optional(),
  websockets: z.number().int().optional(),
  listen: z.object({address: z.string(), port: z.number().int()}).optional(),
})

export const ChatEntry = z.object({
  seq: z.number().int(),
  session_id: z.string(),
  request_id: z.string().nullable(),
  kind: z.enum(['user', 'agent', 'tool', 'error', 'notice']),
  text: z.string().nullable(),
  tool: z.string().nullable(),
  target: z.string().nullable(),
  ok: z.boolean().nullable(),
  created_at: IsoTime,
})

export const AgentState = z.object({
  id: z.string(),
  enabled: z.boolean(),
  runtime: z.string(),
  model: z.string(),
  has_credential: z.boolean(),
  agent_wedged: z.boolean(),
  chat_responsive: z.boolean().nullable(),
  last_frame_at: IsoTime.nullable(),
  last_heartbeat_at: IsoTime.nullable(),
  active_request_ids: z.array(z.string()),
  auto_restart_attempts: z.number().int(),
  auto_restart_status: z.string().nullable(),
  last_auto_restart_attempt_at: IsoTime.nullable(),
  alive_via: z.string().nullable(),
})

export const SessionView = z.object({
  id: z.string(),
  key: z.string(),
  agent_id: z.string(),
  runtime: z.string(),
  runtime_session_id: z.string().nullable(),
  workspace_dir: z.string(),
  created_at: z.string(),
  last_activity_at: z.string(),
  quarantined: z.boolean(),
})

const Accepted = z.object({request_id: z.string()})

/** The gateway's JSON routes (SPEC §2.10); SSE, WS, the page and webhooks live in http.ts / ws-chat.ts. */
export const gatewayApi = {
  health: route('GET', '/health', {output: GatewayHealth.loose(), roles: OA}),
  reload: route('POST', '/reload', {output: ReloadOutput, roles: O}),
  configReload: route('POST', '/config/reload', {output: ReloadOutput, roles: O}),
  configDrivers: route('GET', '/config/drivers', {
    output: z.object({drivers: z.array(z.object({name: z.string(), display_name: z.string(), description: z.string(), supported_providers: z.array(z.string()), supported_auth_types: z.array(z.string()), default_models: z.array(z.string()), available: z.boolean(), version: z.string().nullable()}))}),
    roles: O,
  }),
  configAgentsGet: route('GET', '/config/agents', {output: AgentsDocOut.extend({mutable: z.boolean()}), roles: O}),
  configAgentsPut: route('PUT', '/config/agents', {input: AgentsPut, output: AgentsDocOut, roles: O}),
  configAgentsAdd: route('POST', '/config/agents', {input: AgentInput, output: AgentsDocOut, roles: O, status: 201}),
  configAgentsPatch: route('PATCH', '/config/agents/{agent_id}', {input: AgentPatch.extend({agent_id: AgentId}), output: AgentsDocOut, roles: O}),
  configAgentsDelete: route('DELETE', '/config/agents/{agent_id}', {input: z.strictObject({agent_id: AgentId}), output: z.object({deleted: z.string()}), roles: O}),
  credentialsList: route('GET', '/config/credentials', {output: z.object({default_credential_id: z.string().nullable(), credentials: z.array(CredentialView)}), roles: O}),
  credentialsAdd: route('POST', '/config/credentials', {input: CredentialInput, output: CredentialView, roles: O, status: 201}),
  credentialsRename: route('PATCH', '/config/credentials/{cred_id}', {input: z.strictObject({cred_id: CredentialId, label: CredentialLabel}), output: CredentialView, roles: O}),
  credentialsTest: route('POST', '/config/credentials/{cred_id}/test', {
    input: z.strictObject({cred_id: CredentialId}),
    output: z.object({ok: z.boolean(), error: z.string().nullable(), model_list: z.array(z.string())}),
    roles: O,
  }),
  credentialsDefault: route('POST', '/config/credentials/{cred_id}/default', {input: z.strictObject({cred_id: CredentialId}), output: z.object({default_credential_id: z.string()}), roles: O}),
  credentialsDelete: route('DELETE', '/config/credentials/{cred_id}', {input: z.strictObject({cred_id: CredentialId}), output: z.object({deleted: z.string()}), roles: O}),
  chat: route('POST', '/chat', {
    input: z.strictObject({
      text: z.string().min(1).max(100_000).describe('The message'),
      agent_id: AgentId.optional(),
      channel: z.enum(CHANNELS).default('api'),
      session_key: SessionKey.optional(),
      supersede: z.boolean().default(false),
      cwd: z.string().max(4096).regex(/^\/[^\0]*$/, 'must be an absolute path').optional(),
      model: z.string().min(1).max(100).regex(/^[A-Za-z0-9._:/-]+$/).optional(),
      parent_request_id: RequestId.optional(),
    }),
    output: z.object({request_id: z.string(), session_id: z.string(), agent_id: z.string()}),
    roles: OA,
    status: 202,
    maxBodyBytes: 512 * 1024,
  }),
  chatHistory: route('GET', '/chat-history', {
    input: z.strictObject({session_key: SessionKey.optional(), session_id: SessionId.optional(), since: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0), limit: limit(200, 200)}),
    output: z.object({entries: z.array(ChatEntry), next_since: z.number().int()}),
    roles: O,
  }),
  requestsList: route('GET', '/requests', {
    input: z.strictObject({action: RequestAction.optional(), status: RequestStatus.optional(), agent_id: AgentId.optional(), limit: limit(50, 500), cursor: RequestId.optional()}),
    output: z.object({requests: z.array(Receipt), next_cursor: z.string().nullable()}),
    roles: O,
  }),
  requestGet: route('GET', '/requests/{request_id}', {input: z.strictObject({request_id: RequestId}), output: Receipt, roles: OA}),
  requestStop: route('POST', '/requests/{request_id}/stop', {input: z.strictObject({request_id: RequestId}), output: Receipt, roles: O}),
  agentsList: route('GET', '/agents', {output: z.object({agents: z.array(AgentState)}), roles: O}),
  agentRestart: route('POST', '/agents/{agent_id}/restart', {input: z.strictObject({agent_id: AgentId}), output: Accepted, roles: O, status: 202}),
  agentHeartbeat: route('POST', '/agents/{agent_id}/heartbeat', {
    input: z.strictObject({agent_id: AgentId, request_id: RequestId, in_flight_tools: z.number().int().min(0).max(64)}),
    output: z.object({ok: z.literal(true)}),
    roles: OA,
  }),
  sessionsList: route('GET', '/sessions', {output: z.object({sessions: z.array(SessionView)}), roles: O}),
  sessionDelete: route('DELETE', '/sessions/{session_id}', {input: z.strictObject({session_id: SessionId}), output: z.object({reset: z.string()}), roles: O}),
  diagnosticsLog: route('GET', '/diagnostics/log', {
    input: z.strictObject({
      since_ms: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
      level: z.string().max(40).regex(/^(debug|info|warn|error)(,(debug|info|warn|error))*$/, 'comma list of debug,info,warn,error').optional(),
      limit: limit(100, 1000),
    }),
    output: z.object({ts: IsoTime, level: z.string(), kind: z.string(), agent_id: z.string().nullable(), request_id: z.string().nullable(), message: z.string(), data: z.record(z.string(), z.unknown()).nullable()}),
    roles: O,
    stream: true,
  }),
} as const

/** The gateway's route table type. */
export type GatewayApi = typeof gatewayApi
