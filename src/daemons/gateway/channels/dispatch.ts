import type {AgentRouting, ChatChannel} from './routing.js'

/** Who wrote a channel message: the channel's own user id (Telegram from.id, WhatsApp number). */
export interface ChannelUser {
  id: string
  /** A display name for logs and the UI (never used for authorization). */
  name?: string
}

/** One chat message from a channel, addressed to a resolved agent. */
export interface ChannelMessage {
  agentId: string
  channel: ChatChannel
  user: ChannelUser
  text: string
}

/**
 * What a running request reports back. `text` deltas are grouped by `message_id` (one assistant
 * message each); `done.reply` is the final answer; a request ends with exactly one `done` or `error`.
 */
export type ReplyEvent =
  | {type: 'accepted'; request_id: string; session_id: string; agent_id: string}
  | {type: 'text'; request_id: string; message_id: string; delta: string}
  | {type: 'tool_use'; request_id: string; tool: string; target: string | null}
  | {type: 'tool_result'; request_id: string; tool: string; ok: boolean}
  | {type: 'done'; request_id: string; reply: string}
  | {type: 'error'; request_id: string; code: string; message: string}

/** The session a channel user's messages belong to (the agent's one conversation under sessionScope agent). */
export interface SessionRef {
  agentId: string
  channel: ChatChannel
  user: ChannelUser
}

/** What /status reports about the agent and its session. */
export interface ChannelStatus {
  agent_id: string
  runtime: string
  model: string
  enabled: boolean
  agent_wedged: boolean
  active_request_id: string | null
  session_id: string | null
}

/**
 * The seam between channels and the gateway's chat service: channels resolve the agent and hand
 * over text; the chat service owns sessions, runs, history and receipts. Unit tests use a fake.
 */
export interface ChatDispatcher {
  /** The current agents.json routing view (agents and bindings). */
  routing(): AgentRouting
  /**
   * Starts a request and streams its events. Throws an OsmodaError before the first event when
   * the request cannot start (SESSION_BUSY, GATEWAY_WEDGED, AGENT_DISCONNECTED, …).
   */
  submit(message: ChannelMessage): AsyncIterable<ReplyEvent>
  /** Stops the session's active request; false when nothing was running. */
  stop(session: SessionRef): Promise<boolean>
  /** Drops the session's runtime conversation (history is kept). */
  resetSession(session: SessionRef): Promise<void>
  status(session: SessionRef): Promise<ChannelStatus>
}
