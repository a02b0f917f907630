import {OsmodaError} from '../../src/lib/errors.js'
import type {ChannelMessage, ChannelStatus, ChatDispatcher, ReplyEvent, SessionRef} from '../../src/daemons/gateway/channels/dispatch.js'
import type {AgentRouting} from '../../src/daemons/gateway/channels/routing.js'

/** The default routing: `osmoda` for web/api, `mobile` for telegram/whatsapp (SPEC §2.10 seed). */
export const DEFAULT_ROUTING: AgentRouting = {
  agents: [
    {id: 'osmoda', enabled: true, channels: ['web', 'api', 'voice']},
    {id: 'mobile', enabled: true, channels: ['telegram', 'whatsapp']},
  ],
  bindings: [
    {channel: 'web', agent_id: 'osmoda'},
    {channel: 'telegram', agent_id: 'mobile'},
    {channel: 'whatsapp', agent_id: 'mobile'},
  ],
}

/**
 * A test double of the gateway's chat service at the ChatDispatcher seam: answers each message with
 * the events `reply(message)` returns, one request per session at a time (SESSION_BUSY otherwise),
 * and records submissions, stops and resets.
 */
/** How the fake answers a message: events to stream, or 'hang' until /stop. */
export type ReplyScript = (message: ChannelMessage) => ReplyEvent[] | 'hang'

export function createFakeDispatcher(options: {reply?: ReplyScript; routing?: AgentRouting} = {}) {
  const submitted: ChannelMessage[] = []
  const stops: SessionRef[] = []
  const resets: SessionRef[] = []
  const active = new Map<string, {requestId: string; release: () => void}>()
  let routing = options.routing ?? DEFAULT_ROUTING
  let counter = 0

  const key = (ref: {agentId: string}) => `agent:${ref.agentId}`

  const dispatcher: ChatDispatcher = {
    routing: () => routing,
    submit(message) {
      if (active.has(key(message))) {
        throw new OsmodaError('SESSION_BUSY', 'a chat request is active on this session', {details: {active_request_id: active.get(key(message))!.requestId}})
      }
      submitted.push(message)
      const requestId = `req_${String(++counter).padStart(26, '0')}`
      const script = options.reply?.(message) ?? [{type: 'done', request_id: requestId, reply: `echo: ${message.text}`}]
      let release!: () => void
      const released = new Promise<void>((resolve) => (release = resolve))
      active.set(key(message), {requestId, release})
      return (async function* () {
        try {
          yield {type: 'accepted', request_id: requestId, session_id: 'ses_test', agent_id: message.agentId} satisfies ReplyEvent
          if (script === 'hang') {
            await released
            yield {type: 'error', request_id: requestId, code: 'STOPPED', message: 'stopped by the user'} satisfies ReplyEvent
            return
          }
          for (const event of script) yield {...event, request_id: requestId}
        } finally {
          active.delete(key(message))
        }
      })()
    },
    async stop(ref) {
      stops.push(ref)
      const run = active.get(key(ref))
      run?.release()
      return run !== undefined
    },
    async resetSession(ref) {
      resets.push(ref)
    },
    async status(ref): Promise<ChannelStatus> {
      return {agent_id: ref.agentId, runtime: 'claude-code', model: 'claude-sonnet-4-6', enabled: true, agent_wedged: false, active_request_id: active.get(key(ref))?.requestId ?? null, session_id: 'ses_test'}
    },
  }
  return {
    dispatcher,
    submitted,
    stops,
    resets,
    setRouting(next: AgentRouting) {
      routing = next
    },
  }
}
