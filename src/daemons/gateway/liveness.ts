import {OsmodaError} from '../../lib/errors.js'
import type {LivenessPort} from './chat-service.js'

/** What GET /agents shows about an agent's liveness. */
export interface AgentLiveness {
  last_frame_at: string | null
  last_heartbeat_at: string | null
  agent_wedged: boolean
  alive_via: string | null
  auto_restart_attempts: number
  auto_restart_status: string | null
  last_auto_restart_attempt_at: string | null
}

/** The liveness view that the wedge monitor keeps up to date. */
export type LivenessTracker = LivenessPort & {
  view(agentId: string): AgentLiveness
  lastFrameMs(agentId: string): number | null
  lastHeartbeatMs(agentId: string): number | null
  set(agentId: string, patch: Partial<AgentLiveness>): void
}

/** In-memory per-agent signals: the last frame and heartbeat, the wedge flag and restart status. */
export function createLivenessTracker(clock: () => number = Date.now): LivenessTracker {
  const state = new Map<string, AgentLiveness & {frameMs: number | null; heartbeatMs: number | null}>()
  const get = (id: string) => {
    let s = state.get(id)
    if (!s) {
      s = {last_frame_at: null, last_heartbeat_at: null, agent_wedged: false, alive_via: null, auto_restart_attempts: 0, auto_restart_status: null, last_auto_restart_attempt_at: null, frameMs: null, heartbeatMs: null}
      state.set(id, s)
    }
    return s
  }
  return {
    noteFrame(agentId) {
      const s = get(agentId)
      s.frameMs = clock()
      s.last_frame_at = new Date(s.frameMs).toISOString()
    },
    noteHeartbeat(agentId) {
      const s = get(agentId)
      s.heartbeatMs = clock()
      s.last_heartbeat_at = new Date(s.heartbeatMs).toISOString()
    },
    refusal(agentId) {
      const s = get(agentId)
      if (s.auto_restart_status === 'exhausted') {
        return new OsmodaError('GATEWAY_UNREACHABLE', `agent ${agentId}'s runtime could not be restarted`, {details: {agent_id: agentId, fallback_recommendation: 'run_doctor'}, hint: 'osmoda doctor, then osmoda gateway restart-agent ' + agentId})
      }
      if (s.agent_wedged) {
        return new OsmodaError('GATEWAY_WEDGED', `agent ${agentId} is wedged`, {details: {agent_id: agentId, fallback_recommendation: 'restart_agent'}, hint: 'osmoda gateway restart-agent ' + agentId})
      }
      return null
    },
    view(agentId) {
      const {frameMs: _f, heartbeatMs: _h, ...rest} = get(agentId)
      return rest
    },
    lastFrameMs: (agentId) => get(agentId).frameMs,
    lastHeartbeatMs: (agentId) => get(agentId).heartbeatMs,
    set(agentId, patch) {
      Object.assign(get(agentId), patch)
    },
  }
}
