import type {ChatFrame} from '../chat-types.js'
import type {GatewayServices} from '../extension.js'
import type {ChannelStatus, ChatDispatcher, ReplyEvent, SessionRef} from './dispatch.js'

/** Channel chats are submitted as the gateway itself (the channel user is no osmoda operator). */
const ORIGIN = {actor: 'gateway', role: 'operator' as const}

/**
 * ChatDispatcher over the gateway's chat service. It learns which request runs on which session
 * from the event stream, so `/stop` and `/status` on Telegram also see a turn started on the web
 * when both share the agent's one conversation (sessionScope agent).
 */
export function createGatewayDispatcher(services: GatewayServices): ChatDispatcher & {close(): void} {
  const running = new Map<string, {requestId: string; agentId: string | null}>()
  const sessionIdByKey = new Map<string, string>()
  const wedged = new Set<string>()

  const unsubscribe = services.events.subscribe((event) => {
    const sessionId = (event.data as {session_id?: unknown} | null)?.session_id
    if (event.type === 'request.accepted' && typeof sessionId === 'string' && event.request_id) running.set(sessionId, {requestId: event.request_id, agentId: event.agent_id})
    else if (['request.completed', 'request.failed', 'request.superseded'].includes(event.type) && typeof sessionId === 'string') {
      if (running.get(sessionId)?.requestId === event.request_id) running.delete(sessionId)
    } else if (event.type === 'agent.wedged' && event.agent_id) wedged.add(event.agent_id)
    else if (event.type === 'agent.healed' && event.agent_id) wedged.delete(event.agent_id)
  })

  const keyOf = (ref: SessionRef) => (services.config().sessionScope === 'agent' ? `agent:${ref.agentId}` : `${ref.agentId}:${ref.channel}:${ref.user.id}`)

  const activeFor = (ref: SessionRef): {requestId: string; sessionId: string} | null => {
    const sessionId = sessionIdByKey.get(keyOf(ref))
    if (sessionId) {
      const run = running.get(sessionId)
      return run ? {requestId: run.requestId, sessionId} : null
    }
    // A conversation this channel has not used yet: under the agent scope it is the agent's one session.
    if (services.config().sessionScope !== 'agent') return null
    for (const [id, run] of running) if (run.agentId === ref.agentId) return {requestId: run.requestId, sessionId: id}
    return null
  }

  return {
    routing: () => services.agents(),

    submit(message) {
      const queue: ReplyEvent[] = []
      let wake: (() => void) | null = null
      let ended = false
      const push = (frame: ChatFrame) => {
        if (frame.type === 'event' || frame.type === 'pong') return
        if (frame.type === 'accepted') sessionIdByKey.set(keyOf(message), frame.session_id)
        queue.push(frame.type === 'error' ? {...frame, request_id: frame.request_id ?? ''} : frame)
        if (frame.type === 'done' || frame.type === 'error') ended = true
        wake?.()
      }
      // Throws at once (SESSION_BUSY, AGENT_DISCONNECTED, …) before any event.
      services.chat.submit({text: message.text, agent_id: message.agentId, channel: message.channel, user: message.user.id}, ORIGIN, push)
      return (async function* () {
        for (;;) {
          while (queue.length > 0) yield queue.shift()!
          if (ended) return
          await new Promise<void>((resolve) => (wake = resolve))
          wake = null
        }
      })()
    },

    async stop(ref) {
      const active = activeFor(ref)
      if (!active) return false
      try {
        await services.chat.stop(active.requestId, 'gateway')
      } catch {
        // It ended between the lookup and the stop.
        return false
      }
      return true
    },

    async resetSession(ref) {
      services.chat.resetSession(keyOf(ref), 'gateway')
    },

    async status(ref): Promise<ChannelStatus> {
      const agent = services.agents().agents.find((a) => a.id === ref.agentId)
      const active = activeFor(ref)
      return {
        agent_id: ref.agentId,
        runtime: agent?.runtime ?? 'unknown',
        model: agent?.model ?? 'unknown',
        enabled: agent?.enabled ?? false,
        agent_wedged: wedged.has(ref.agentId),
        active_request_id: active?.requestId ?? null,
        session_id: active?.sessionId ?? sessionIdByKey.get(keyOf(ref)) ?? null,
      }
    },

    close: unsubscribe,
  }
}
