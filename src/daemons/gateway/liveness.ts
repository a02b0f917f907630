import {OsmodaError} from '../../lib/errors.js'
import type {Ledger} from '../../lib/ledger/ledger.js'
import type {LivenessPort} from './chat-service.js'
import type {Diagnostics} from './diagnostics.js'
import type {EventBus} from './events.js'
import type {WedgeEvent, WedgeMonitor} from './wedge.js'

/** The chat engine's liveness port over the WedgeMonitor: signals in, refusals out. */
export function livenessFromMonitor(monitor: WedgeMonitor): LivenessPort {
  return {
    noteFrame: (agentId, requestId) => monitor.noteFrame(agentId, requestId),
    noteHeartbeat: (agentId) => monitor.noteHeartbeat(agentId),
    requestStarted: (agentId, requestId, sessionId) => monitor.requestStarted(agentId, requestId, sessionId),
    requestFinished: (agentId, requestId, outcome) => monitor.requestFinished(agentId, requestId, outcome),
    refusal(agentId) {
      if (monitor.isUnreachable(agentId)) {
        return new OsmodaError('GATEWAY_UNREACHABLE', `agent ${agentId}'s runtime could not be restarted (restart ladder exhausted)`, {
          details: {agent_id: agentId, fallback_recommendation: 'run_doctor'},
          hint: `osmoda doctor, then osmoda gateway restart-agent ${agentId}`,
        })
      }
      if (monitor.isWedged(agentId)) {
        return new OsmodaError('GATEWAY_WEDGED', `agent ${agentId} is wedged (no runtime frame and no heartbeat)`, {
          details: {agent_id: agentId, fallback_recommendation: 'restart_agent'},
          hint: `osmoda gateway restart-agent ${agentId}`,
        })
      }
      return null
    },
  }
}

/**
 * Publishes the monitor's transitions: every one on the stream, wedges, restart attempts and
 * escalations also in the ledger and the diagnostics log; an escalation asks for the operator.
 */
export function publishWedgeEvent(event: WedgeEvent, deps: {events: EventBus; ledger: Ledger; diagnostics: Diagnostics}): void {
  const {type, agent_id, ...data} = event
  deps.events.emit({category: type === 'state.changed' ? 'state' : 'agent', type, agent_id, data: {agent_id, ...data}})
  if (type === 'state.changed' || type === 'agent.healed') {
    if (type === 'agent.healed') deps.diagnostics.record({level: 'info', kind: 'wedge', agent_id, message: `agent healed via ${event.alive_via}`})
    if (type === 'agent.healed') deps.ledger.append({type, actor: 'gateway', payload: {agent_id, alive_via: event.alive_via}})
    return
  }
  deps.ledger.append({type, actor: 'gateway', payload: {agent_id, ...data}})
  deps.diagnostics.record({level: type === 'agent.restart_attempted' && event.status === 'ready' ? 'info' : 'warn', kind: type === 'agent.wedged' ? 'wedge' : 'restart', agent_id, message: type, data})
  if (type === 'agent.escalation_required') {
    deps.ledger.append({
      type: 'notification.requested',
      actor: 'gateway',
      payload: {source: 'gateway', severity: 'critical', title: `agent ${agent_id} cannot be recovered`, message: `${event.attempts} restart attempts failed${event.last_error ? `: ${event.last_error}` : ''}; run osmoda doctor`},
    })
    deps.events.emit({category: 'notification', type: 'notification.requested', agent_id, data: {source: 'gateway', severity: 'critical', title: `agent ${agent_id} cannot be recovered`}})
  }
}
