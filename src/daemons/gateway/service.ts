import type {z} from 'zod'
import {NotFoundError, OsmodaError} from '../../lib/errors.js'
import type {Ledger} from '../../lib/ledger/ledger.js'
import type {RequestContext} from '../../lib/rpc/server.js'
import type {AgentsStore} from './agents-file.js'
import type {GatewayApi} from './api.js'
import type {ChatEngine} from './chat-service.js'
import type {GatewayConfig} from './config.js'
import {checkBaseUrl, type CredentialStore} from './credentials.js'
import {testCredential} from './credential-test.js'
import type {Diagnostics} from './diagnostics.js'
import type {EventBus} from './events.js'
import type {WedgeMonitor} from './wedge.js'
import type {RequestStore} from './request-store.js'
import type {RuntimeDriver, RuntimeName} from './runtime/types.js'

type In<K extends keyof GatewayApi> = z.output<GatewayApi[K]['input']>
type Out<K extends keyof GatewayApi> = z.input<GatewayApi[K]['output']>
type Ctx = Omit<RequestContext, 'signal'>

/** Dependencies of the gateway's route logic. */
export interface GatewayServiceDeps {
  config: () => GatewayConfig
  agents: AgentsStore
  credentials: CredentialStore
  chat: ChatEngine
  requests: RequestStore
  events: EventBus
  wedge: WedgeMonitor
  diagnostics: Diagnostics
  drivers: Partial<Record<RuntimeName, RuntimeDriver>>
  ledger: Ledger
  newId: (prefix: string) => string
  /** null when `osmoda mcp --check` reaches agentd, else why not. */
  checkToolPlane: () => Promise<string | null>
}

/** The gateway's route logic for config, credentials, requests and agents (routes.ts binds it). */
export function createGatewayService(deps: GatewayServiceDeps) {
  const {agents, credentials} = deps
  // Agent-started sub-requests (spec-kit): they may not start further ones (depth 1).
  const subRequests = new Set<string>()
  const agentsChanged = (ctx: Ctx) => {
    deps.ledger.append({type: 'config.agents_changed', actor: ctx.actor, payload: {sha256: agents.sha256()}})
    deps.events.emit({category: 'state', type: 'state.changed', data: {agents_sha256: agents.sha256()}})
  }
  // The last probe error of an agent, as recorded by probeAgent (the monitor keeps only a status).
  const probeErrors = new Map<string, string>()
  const lastError = (agentId: string) => probeErrors.get(agentId) ?? 'unknown error'
  const probeDriver = async (name: RuntimeName) => {
    const driver = deps.drivers[name]
    if (!driver) return {available: false, version: null as string | null, error: `no ${name} driver in this build`}
    return driver.probe().catch((error: unknown) => ({available: false, version: null, error: (error as Error).message}))
  }

  return {
    agentsGet: (): Out<'configAgentsGet'> => ({...agents.get(), mutable: agents.mutable}),
    agentsPut(input: In<'configAgentsPut'>, ctx: Ctx): Out<'configAgentsPut'> {
      const doc = agents.put(input)
      agentsChanged(ctx)
      return doc
    },
    agentsAdd(input: In<'configAgentsAdd'>, ctx: Ctx): Out<'configAgentsAdd'> {
      const doc = agents.add(input)
      agentsChanged(ctx)
      return doc
    },
    agentsPatch(input: In<'configAgentsPatch'>, ctx: Ctx): Out<'configAgentsPatch'> {
      const {agent_id, ...patch} = input
      const before = agents.get().agents.find((a) => a.id === agent_id)
      const doc = agents.patch(agent_id, patch)
      agentsChanged(ctx)
      const after = doc.agents.find((a) => a.id === agent_id)
      if (before && after) {
        for (const key of ['runtime', 'model', 'enabled'] as const) {
          if (before[key] !== after[key]) deps.events.emit({category: 'state', type: 'state.changed', agent_id, data: {agent_id, [key === 'enabled' ? 'agent_enabled' : key]: after[key]}})
        }
      }
      return doc
    },
    agentsDelete(input: In<'configAgentsDelete'>, ctx: Ctx): Out<'configAgentsDelete'> {
      agents.remove(input.agent_id)
      agentsChanged(ctx)
      return {deleted: input.agent_id}
    },
    credentialsList: (): Out<'credentialsList'> => credentials.list(),
    credentialsAdd(input: In<'credentialsAdd'>, ctx: Ctx): Out<'credentialsAdd'> {
      checkBaseUrl(input.base_url, deps.config().allowPrivateBaseUrls)
      const hadAny = (credentials.count() ?? 0) > 0
      const view = credentials.add(input)
      deps.ledger.append({type: 'credential.added', actor: ctx.actor, payload: {credential_id: view.id, provider: view.provider, type: view.type}})
      if (!hadAny) deps.events.emit({category: 'state', type: 'state.changed', data: {has_api_key: true}})
      return view
    },
    credentialsRename: (input: In<'credentialsRename'>): Out<'credentialsRename'> => credentials.rename(input.cred_id, input.label),
    async credentialsTest(input: In<'credentialsTest'>): Promise<Out<'credentialsTest'>> {
      credentials.list()
      const credential = credentials.secretFor(input.cred_id)
      if (!credential || credential.id !== input.cred_id) throw new NotFoundError(`no credential ${input.cred_id}`)
      const at = () => new Date().toISOString()
      try {
        const result = await testCredential(credential, {allowPrivate: deps.config().allowPrivateBaseUrls})
        credentials.note(credential.id, {last_tested_at: at(), last_test_ok: result.ok, last_test_error: result.error})
        return result
      } catch (error) {
        credentials.note(credential.id, {last_tested_at: at(), last_test_ok: false, last_test_error: (error as Error).message.slice(0, 300)})
        throw error
      }
    },
    credentialsDefault(input: In<'credentialsDefault'>, ctx: Ctx): Out<'credentialsDefault'> {
      const id = credentials.setDefault(input.cred_id)
      deps.ledger.append({type: 'credential.defaulted', actor: ctx.actor, payload: {credential_id: id}})
      return {default_credential_id: id}
    },
    credentialsDelete(input: In<'credentialsDelete'>, ctx: Ctx): Out<'credentialsDelete'> {
      credentials.list()
      const inUse = agents.get().agents.filter((a) => a.credential_id === input.cred_id).map((a) => a.id)
      credentials.remove(input.cred_id, inUse)
      deps.ledger.append({type: 'credential.removed', actor: ctx.actor, payload: {credential_id: input.cred_id}})
      if (credentials.count() === 0) deps.events.emit({category: 'state', type: 'state.changed', data: {has_api_key: false}})
      return {deleted: input.cred_id}
    },
    chat(input: In<'chat'>, ctx: Ctx): Out<'chat'> {
      if (ctx.role === 'agent') {
        // An agent may only start a sub-request of its own running request (spec-kit), depth 1.
        const parent = input.parent_request_id ? deps.chat.activeFor(input.parent_request_id) : null
        if (!parent || parent.agentId !== ctx.agentId) throw new OsmodaError('FORBIDDEN', 'the agent role may only chat with parent_request_id = its own running request')
        if (subRequests.has(parent.requestId)) throw new OsmodaError('FORBIDDEN', 'sub-requests cannot start further sub-requests (depth 1)')
        if (input.cwd && !input.cwd.startsWith('/workspace/')) throw new OsmodaError('PATH_DENIED', 'an agent sub-request cwd must lie under /workspace', {details: {path: input.cwd}})
        const accepted = deps.chat.submit({...input}, {actor: ctx.actor, role: ctx.role, agentId: ctx.agentId})
        subRequests.add(accepted.request_id)
        return accepted
      }
      return deps.chat.submit({...input}, {actor: ctx.actor, role: ctx.role, agentId: ctx.agentId})
    },
    requestGet(input: In<'requestGet'>, ctx: Ctx): Out<'requestGet'> {
      const receipt = deps.requests.get(input.request_id)
      if (!receipt || (ctx.role === 'agent' && receipt.agent_id !== ctx.agentId)) throw new NotFoundError(`no request ${input.request_id}`)
      return receipt
    },
    async requestStop(input: In<'requestStop'>, ctx: Ctx): Promise<Out<'requestStop'>> {
      await deps.chat.stop(input.request_id, ctx.actor)
      return deps.requests.get(input.request_id) as Out<'requestStop'>
    },
    agentsList(): Out<'agentsList'> {
      return {
        agents: agents.get().agents.map((agent) => ({
          id: agent.id,
          enabled: agent.enabled,
          runtime: agent.runtime,
          model: agent.model,
          has_credential: credentials.secretFor(agent.credential_id) !== null,
          ...deps.wedge.liveness(agent.id),
        })),
      }
    },
    agentRestart(input: In<'agentRestart'>, ctx: Ctx): Out<'agentRestart'> {
      const agent = agents.get().agents.find((a) => a.id === input.agent_id)
      if (!agent) throw new NotFoundError(`no agent ${input.agent_id}`)
      const requestId = deps.newId('req')
      deps.requests.create({request_id: requestId, action: 'agent_restart', agent_id: agent.id, session_id: null, channel: null})
      deps.events.emit({category: 'request', type: 'request.accepted', agent_id: agent.id, request_id: requestId, data: {action: 'agent_restart', actor: ctx.actor}})
      const started = Date.now()
      void deps.wedge.restart(agent.id).then((status) => {
        const ok = status === 'ready'
        const failure = ok ? null : {code: status === 'timeout' ? 'PROBE_TIMEOUT' : 'PROBE_FAILED', message: deps.wedge.liveness(agent.id).auto_restart_status === 'restarting' ? 'a restart is already running' : `restart ${status}: ${lastError(agent.id)}`}
        deps.requests.update(requestId, ok ? {status: 'completed', result: {reply_chars: 0, tools_used: 0, duration_ms: Date.now() - started}} : {status: 'failed', failure})
        deps.events.emit({category: 'request', type: ok ? 'request.completed' : 'request.failed', agent_id: agent.id, request_id: requestId, data: ok ? {action: 'agent_restart'} : {action: 'agent_restart', failure}})
      })
      return {request_id: requestId}
    },
    heartbeat(input: In<'agentHeartbeat'>): Out<'agentHeartbeat'> {
      deps.chat.heartbeat(input.agent_id, input.request_id, input.in_flight_tools)
      return {ok: true}
    },
    probeDriver,
    /** The recovery probe: the driver binary answers, a credential exists, `osmoda mcp --check` reaches agentd. */
    async probeAgent(agentId: string): Promise<{ok: boolean; error?: string}> {
      const agent = agents.get().agents.find((a) => a.id === agentId)
      const fail = (error: string) => {
        probeErrors.set(agentId, error)
        return {ok: false, error}
      }
      if (!agent) return fail(`agent ${agentId} no longer exists`)
      const driver = await probeDriver(agent.runtime)
      if (!driver.available) return fail(`${agent.runtime}: ${'error' in driver && driver.error ? driver.error : 'not available'}`)
      if (!credentials.secretFor(agent.credential_id)) return fail('no usable credential')
      const tools = await deps.checkToolPlane()
      if (tools) return fail(tools)
      probeErrors.delete(agentId)
      return {ok: true}
    },
  }
}

/** The gateway service's type. */
export type GatewayService = ReturnType<typeof createGatewayService>
