import type {ReloadResult} from '../../lib/daemon/runtime.js'
import type {Handlers} from '../../lib/rpc/server.js'
import {ndjson} from '../../lib/rpc/stream.js'
import type {z} from 'zod'
import type {GatewayApi, GatewayHealth, SessionView} from './api.js'
import type {Diagnostics, DiagLevel} from './diagnostics.js'
import type {RequestStore} from './request-store.js'
import type {GatewayService} from './service.js'
import {NotFoundError} from '../../lib/errors.js'

/** Binds the gateway's route table to its services; no logic lives here. */
export function gatewayHandlers(deps: {
  health: (role: 'operator' | 'agent') => Promise<z.input<typeof GatewayHealth>>
  reload: () => Promise<ReloadResult>
  service: GatewayService
  requests: RequestStore
  diagnostics: Diagnostics
  drivers: () => Promise<z.input<GatewayApi['configDrivers']['output']>>
  sessions: {list(): z.input<typeof SessionView>[]; get(id: string): z.input<typeof SessionView> | null; getByKey(key: string): z.input<typeof SessionView> | null; reset(id: string): boolean}
  onSessionReset: (sessionId: string, actor: string) => void
}): Handlers<GatewayApi> {
  const {service} = deps
  return {
    health: (_input, ctx) => deps.health(ctx.role),
    reload: () => deps.reload(),
    configReload: () => deps.reload(),
    configDrivers: () => deps.drivers(),
    configAgentsGet: () => service.agentsGet(),
    configAgentsPut: (input, ctx) => service.agentsPut(input, ctx),
    configAgentsAdd: (input, ctx) => service.agentsAdd(input, ctx),
    configAgentsPatch: (input, ctx) => service.agentsPatch(input, ctx),
    configAgentsDelete: (input, ctx) => service.agentsDelete(input, ctx),
    credentialsList: () => service.credentialsList(),
    credentialsAdd: (input, ctx) => service.credentialsAdd(input, ctx),
    credentialsRename: (input) => service.credentialsRename(input),
    credentialsTest: (input) => service.credentialsTest(input),
    credentialsDefault: (input, ctx) => service.credentialsDefault(input, ctx),
    credentialsDelete: (input, ctx) => service.credentialsDelete(input, ctx),
    chat: (input, ctx) => service.chat(input, ctx),
    chatHistory: (input) => {
      const session = input.session_id ? deps.sessions.get(input.session_id) : input.session_key ? deps.sessions.getByKey(input.session_key) : deps.sessions.getByKey('agent:osmoda')
      if (!session) throw new NotFoundError('no such session', {hint: 'osmoda session list'})
      const entries = deps.requests.history(session.id, input.since, input.limit)
      return {entries, next_since: entries.length ? (entries[entries.length - 1]?.seq ?? input.since) : input.since}
    },
    requestsList: (input) => deps.requests.list(input),
    requestGet: (input, ctx) => service.requestGet(input, ctx),
    requestStop: (input, ctx) => service.requestStop(input, ctx),
    agentsList: () => service.agentsList(),
    agentRestart: (input, ctx) => service.agentRestart(input, ctx),
    agentHeartbeat: (input) => service.heartbeat(input),
    sessionsList: () => ({sessions: deps.sessions.list()}),
    sessionDelete: (input, ctx) => {
      if (!deps.sessions.get(input.session_id)) throw new NotFoundError(`no session ${input.session_id}`)
      deps.sessions.reset(input.session_id)
      deps.onSessionReset(input.session_id, ctx.actor)
      return {reset: input.session_id}
    },
    diagnosticsLog: (input) => {
      const levels = input.level ? (input.level.split(',') as DiagLevel[]) : undefined
      const rows = deps.diagnostics.list({sinceMs: input.since_ms, levels, limit: input.limit})
      return ndjson(
        (async function* () {
          yield* rows
        })(),
      )
    },
  }
}
