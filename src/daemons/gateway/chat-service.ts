import {ConflictError, NotFoundError, OsmodaError} from '../../lib/errors.js'
import type {Logger} from '../../lib/log.js'
import type {OsmodaPaths} from '../../lib/paths.js'
import {agentForChannel, type AgentProfile, type AgentsFile} from './agents-file.js'
import type {ChatAccepted, ChatFrame, ChatOrigin, ChatService, ChatSubmit} from './chat-types.js'
import type {GatewayConfig} from './config.js'
import type {CredentialStore} from './credentials.js'
import type {Diagnostics} from './diagnostics.js'
import type {EventBus} from './events.js'
import type {RequestStore} from './request-store.js'
import {systemPrompt, workspaceFor, writeMcpConfig} from './run-setup.js'
import {resolveRunUser} from './runtime/spawn-env.js'
import {consumeRun} from './turn-consumer.js'
import {prepareWorkspace} from './workspace.js'
import type {Run, RuntimeDriver, RuntimeName, StopReason} from './runtime/types.js'

/** A conversation as the chat engine needs it (SessionStore from the runtime work provides it). */
export interface SessionRecord {
  id: string
  key: string
  agent_id: string
  runtime: string
  runtime_session_id: string | null
  workspace_dir: string
  quarantined: boolean
}

/** The session store operations the chat engine uses (SessionStore implements them). */
export interface SessionsPort {
  resolve(input: {key: string; agentId: string; runtime: RuntimeName; workspaceDir: string}): SessionRecord
  resumableRuntimeSession(id: string): string | null
  setRuntimeSessionId(id: string, runtimeSessionId: string, runtime: RuntimeName): void
  touch(id: string): void
  quarantine(id: string): void
  reset(id: string): boolean
  getByKey(key: string): SessionRecord | null
}

/** Per-agent liveness (wedge detection owns it): frames, heartbeats and whether chats may start. */
export interface LivenessPort {
  noteFrame(agentId: string, requestId: string): void
  noteHeartbeat(agentId: string): void
  requestStarted(agentId: string, requestId: string, sessionId: string): void
  requestFinished(agentId: string, requestId: string, outcome: 'completed' | 'failed'): void
  /** GATEWAY_WEDGED / GATEWAY_UNREACHABLE when the agent may not take a chat now. */
  refusal(agentId: string): OsmodaError | null
}

/** A running turn. */
export interface ActiveRequest {
  requestId: string
  sessionId: string
  agentId: string
  startedAt: number
  lastActivityAt: number
  run: Run | null
  stopping: StopReason | null
  listeners: Set<(frame: ChatFrame) => void>
  finished: Promise<void>
}

/** Dependencies of the chat engine. */
export interface ChatDeps {
  paths: OsmodaPaths
  config: () => GatewayConfig
  agents: () => AgentsFile
  credentials: CredentialStore
  drivers: Partial<Record<RuntimeName, RuntimeDriver>>
  sessions: SessionsPort
  liveness: LivenessPort
  requests: RequestStore
  events: EventBus
  diagnostics: Diagnostics
  log: Logger
  newId: (prefix: string) => string
  clock?: () => number
  /** Optional knowledge to prepend to the system prompt (teachd); errors are ignored. */
  knowledge?: (text: string) => Promise<string>
}

/** The chat engine plus what routes and wedge recovery need beyond ChatService. */
export type ChatEngine = ChatService & {
  active(): ActiveRequest[]
  activeFor(requestId: string): ActiveRequest | null
  heartbeat(agentId: string, requestId: string, inFlightTools: number): void
  /** Stops every run (shutdown); resolves when they have ended. */
  stopAll(reason: StopReason): Promise<void>
}

function disconnected(reason: 'disabled' | 'no_credential' | 'no_agent_for_channel', message: string): OsmodaError {
  return new OsmodaError('AGENT_DISCONNECTED', message, {details: {reason, fallback_recommendation: 'configure_agent'}, hint: reason === 'no_credential' ? 'add one with `osmoda credential add`' : 'osmoda agent list'})
}

/** Builds the chat engine: one active request per session, frames to listeners, receipts and history. */
export function createChatEngine(deps: ChatDeps): ChatEngine {
  const clock = deps.clock ?? Date.now
  const bySession = new Map<string, ActiveRequest>()
  const byRequest = new Map<string, ActiveRequest>()

  const pickAgent = (doc: AgentsFile, input: ChatSubmit): AgentProfile => {
    if (!input.agent_id) return agentForChannel(doc, input.channel)
    const agent = doc.agents.find((a) => a.id === input.agent_id)
    if (!agent) throw new NotFoundError(`no agent ${input.agent_id}`, {hint: 'osmoda agent list'})
    if (!agent.enabled) throw disconnected('disabled', `agent ${agent.id} is disabled`)
    return agent
  }

  const emit = (active: ActiveRequest, frame: ChatFrame) => {
    for (const listener of active.listeners) {
      try {
        listener(frame)
      } catch {
        // A closed socket must not break the run.
      }
    }
  }

  const finish = (active: ActiveRequest, outcome: {reply: string; tools: number} | {code: string; message: string}) => {
    const duration = clock() - active.startedAt
    if ('reply' in outcome) {
      deps.requests.update(active.requestId, {status: 'completed', result: {reply_chars: outcome.reply.length, tools_used: outcome.tools, duration_ms: duration}})
      deps.events.emit({category: 'request', type: 'request.completed', agent_id: active.agentId, request_id: active.requestId, data: {session_id: active.sessionId, reply_chars: outcome.reply.length, tools_used: outcome.tools, duration_ms: duration}})
      emit(active, {type: 'done', request_id: active.requestId, reply: outcome.reply})
    } else {
      const superseded = active.stopping === 'supersede'
      deps.requests.update(active.requestId, {status: superseded ? 'superseded' : 'failed', failure: {code: outcome.code, message: outcome.message}})
      if (!superseded) {
        deps.requests.addEntry({session_id: active.sessionId, request_id: active.requestId, kind: 'error', text: `${outcome.code}: ${outcome.message}`, tool: null, target: null, ok: null})
        deps.events.emit({category: 'request', type: 'request.failed', agent_id: active.agentId, request_id: active.requestId, data: {session_id: active.sessionId, failure: {code: outcome.code, message: outcome.message}}})
      }
      emit(active, {type: 'error', request_id: active.requestId, code: outcome.code, message: outcome.message})
    }
    if (bySession.get(active.sessionId) === active) bySession.delete(active.sessionId)
    byRequest.delete(active.requestId)
    // A request stopped by wedge recovery is the monitor's own doing: it drops it itself and keeps
    // the agent wedged until its probe says ready (healed via restart).
    if (active.stopping !== 'wedge') deps.liveness.requestFinished(active.agentId, active.requestId, 'reply' in outcome ? 'completed' : 'failed')
  }

  const consume = (active: ActiveRequest, run: Run, runtime: RuntimeName, cleanup: () => void) => consumeRun({active, run, runtime, cleanup, deps, clock, emit, finish})

  const supersede = async (old: ActiveRequest, by: string) => {
    old.stopping = 'supersede'
    deps.events.emit({category: 'request', type: 'request.superseded', agent_id: old.agentId, request_id: old.requestId, data: {session_id: old.sessionId, superseded_by: by}})
    await old.run?.stop('supersede')
  }

  const engine: ChatEngine = {
    submit(input: ChatSubmit, origin: ChatOrigin, onFrame?: (frame: ChatFrame) => void): ChatAccepted {
      // Snapshots: a reload during the turn changes nothing for it.
      const config = deps.config()
      const agent = pickAgent(deps.agents(), input)
      const refusal = deps.liveness.refusal(agent.id)
      if (refusal) throw refusal
      const credential = deps.credentials.secretFor(agent.credential_id)
      if (!credential) throw disconnected('no_credential', deps.credentials.locked ? 'the credential store is locked (gateway.key missing or wrong)' : `agent ${agent.id} has no usable credential`)
      const driver = deps.drivers[agent.runtime]
      if (!driver) throw new OsmodaError('GATEWAY_UNREACHABLE', `no driver for runtime ${agent.runtime}`, {details: {fallback_recommendation: 'run_doctor'}})
      const workspace = workspaceFor(deps.paths, agent)
      const key = input.session_key ?? (config.sessionScope === 'agent' ? `agent:${agent.id}` : `${agent.id}:${input.channel}:${input.user ?? 'default'}`)
      const session = deps.sessions.resolve({key, agentId: agent.id, runtime: agent.runtime, workspaceDir: workspace})
      const requestId = deps.newId('req')
      const previous = bySession.get(session.id)
      if (previous) {
        const stale = clock() - previous.lastActivityAt > config.staleSupersedeMs
        if (!input.supersede && !stale) throw new ConflictError(`a chat request is active on this session`, {code: 'SESSION_BUSY', details: {active_request_id: previous.requestId}, hint: 'wait for it, stop it, or send with supersede: true'})
        void supersede(previous, requestId)
      }
      const now = clock()
      let settle!: () => void
      const active: ActiveRequest = {requestId, sessionId: session.id, agentId: agent.id, startedAt: now, lastActivityAt: now, run: null, stopping: null, listeners: new Set(onFrame ? [onFrame] : []), finished: new Promise<void>((resolve) => (settle = resolve))}
      bySession.set(session.id, active)
      byRequest.set(requestId, active)
      deps.liveness.requestStarted(agent.id, requestId, session.id)
      deps.requests.create({request_id: requestId, action: 'chat_message', agent_id: agent.id, session_id: session.id, channel: input.channel})
      deps.requests.addEntry({session_id: session.id, request_id: requestId, kind: 'user', text: input.text, tool: null, target: null, ok: null})
      deps.events.emit({category: 'request', type: 'request.accepted', agent_id: agent.id, request_id: requestId, data: {action: 'chat_message', session_id: session.id, channel: input.channel, actor: origin.actor}})
      emit(active, {type: 'accepted', request_id: requestId, session_id: session.id, agent_id: agent.id})

      const start = async () => {
        const runAs = deps.paths.mode === 'production' ? config.runtimes.runAs : null
        // Templates and auto skills (SPEC §5); writes only what is missing or changed.
        await prepareWorkspace(workspace, agent, {runtime: agent.runtime, stateDir: deps.paths.stateDir, owner: resolveRunUser(runAs)})
        const mcp = writeMcpConfig(deps.paths, {requestId, agentId: agent.id, sessionId: session.id})
        try {
          const knowledge = config.teachInjection && deps.knowledge ? await deps.knowledge(input.text).catch(() => '') : ''
          if (active.stopping) return finish(active, {code: active.stopping === 'supersede' ? 'SUPERSEDED' : 'STOPPED', message: 'stopped before the runtime started'})
          const run = driver.startRun(
            {
              requestId,
              agentId: agent.id,
              text: input.text,
              model: input.model ?? agent.model,
              systemPrompt: systemPrompt(agent, workspace, input.channel, knowledge),
              workspaceDir: workspace,
              cwd: input.cwd,
              runtimeSessionId: deps.sessions.resumableRuntimeSession(session.id),
              credential: {provider: credential.provider, type: credential.type, secret: credential.secret, base_url: credential.base_url},
              mcpConfigPath: mcp.path,
              runAs,
              memoryMax: agent.memory_max ?? config.runtimes.runMemoryMax,
              tasksMax: config.runtimes.runTasksMax,
            },
            {chatWatchdogMs: config.chatWatchdogMs, firstSignalTimeoutMs: config.firstSignalTimeoutMs, chatHardCapMs: config.chatHardCapMs},
          )
          active.run = run
          deps.credentials.note(credential.id, {last_used_at: new Date(clock()).toISOString()})
          await consume(active, run, agent.runtime, () => mcp.remove())
        } finally {
          mcp.remove()
        }
      }
      start()
        .catch((error: unknown) => {
          deps.diagnostics.record({level: 'error', kind: 'run_error', agent_id: agent.id, request_id: requestId, message: `run failed to start: ${(error as Error).message}`})
          if (byRequest.get(requestId) === active) finish(active, {code: 'RUNTIME_ERROR', message: (error as Error).message})
        })
        .finally(settle)
      return {request_id: requestId, session_id: session.id, agent_id: agent.id}
    },
    follow(requestId, onFrame) {
      const active = byRequest.get(requestId)
      if (!active) return () => {}
      active.listeners.add(onFrame)
      return () => active.listeners.delete(onFrame)
    },
    async stop(requestId, actor, reason = 'user') {
      const active = byRequest.get(requestId)
      if (!active) {
        const receipt = deps.requests.get(requestId)
        if (!receipt) throw new NotFoundError(`no request ${requestId}`)
        throw new ConflictError(`request ${requestId} has already ended (${receipt.status})`, {details: {state: receipt.status}})
      }
      deps.diagnostics.record({level: 'info', kind: 'stop', agent_id: active.agentId, request_id: requestId, message: `stopped by ${actor}`})
      active.stopping ??= reason
      await active.run?.stop(reason)
      await active.finished
    },
    resetSession(key) {
      const session = deps.sessions.getByKey(key)
      return session ? deps.sessions.reset(session.id) : false
    },
    active: () => [...byRequest.values()],
    activeFor: (requestId) => byRequest.get(requestId) ?? null,
    heartbeat(agentId, requestId, inFlightTools) {
      const active = byRequest.get(requestId)
      if (!active || active.agentId !== agentId) throw new NotFoundError(`no running request ${requestId} for agent ${agentId}`)
      active.run?.noteHeartbeat(inFlightTools)
      if (inFlightTools > 0) active.lastActivityAt = clock()
      deps.liveness.noteHeartbeat(agentId)
      deps.events.emit({category: 'heartbeat', type: 'heartbeat.received', agent_id: agentId, request_id: requestId, data: {agent_id: agentId, request_id: requestId, in_flight_tools: inFlightTools}})
    },
    async stopAll(reason) {
      const all = [...byRequest.values()]
      for (const active of all) active.stopping ??= reason
      await Promise.all(all.map(async (active) => {
        await active.run?.stop(reason)
        await active.finished
      }))
    },
  }
  return engine
}
