import type {Role} from '../../lib/rpc/route.js'
import type {Channel} from './agents-file.js'
import type {StreamEvent} from './events.js'

/** Server → client frames of WS /chat (SPEC §2.10); every one but pong/event carries request_id. */
export type ChatFrame =
  | {type: 'accepted'; request_id: string; session_id: string; agent_id: string}
  | {type: 'text'; request_id: string; message_id: string; delta: string}
  | {type: 'tool_use'; request_id: string; tool: string; target: string | null}
  | {type: 'tool_result'; request_id: string; tool: string; ok: boolean}
  | {type: 'done'; request_id: string; reply: string}
  | {type: 'error'; request_id: string | null; code: string; message: string}
  | {type: 'event'; event: StreamEvent}
  | {type: 'pong'}

/** One chat submission, from POST /chat, WS or a channel. */
export interface ChatSubmit {
  text: string
  agent_id?: string
  channel: Channel
  /** Explicit session key; default from sessionScope (`agent:<id>` or `<id>:<channel>:<user>`). */
  session_key?: string
  /** Channel user (Telegram id, phone number) for `channel_user` scope. */
  user?: string
  supersede?: boolean
  cwd?: string
  model?: string
  parent_request_id?: string
}

/** Who submits: the derived actor and role. */
export interface ChatOrigin {
  actor: string
  role: Role
  /** The agent id of an agent-role caller (X-Osmoda-Agent-Id). */
  agentId?: string | null
}

/** What a submission answers at once (202). */
export interface ChatAccepted {
  request_id: string
  session_id: string
  agent_id: string
}

/** The chat engine as extensions and transports see it. */
export interface ChatService {
  /** Starts a turn; throws SESSION_BUSY, AGENT_DISCONNECTED, GATEWAY_WEDGED/UNREACHABLE, NOT_FOUND. */
  submit(input: ChatSubmit, origin: ChatOrigin, onFrame?: (frame: ChatFrame) => void): ChatAccepted
  /** Frames of one request from now on (until done/error); returns the unsubscribe function. */
  follow(requestId: string, onFrame: (frame: ChatFrame) => void): () => void
  /** Stops a running request (`failed`, STOPPED). */
  stop(requestId: string, actor: string, reason?: 'user' | 'wedge'): Promise<void>
  /** Drops the runtime session of a session key (`/new`); history is kept. */
  resetSession(sessionKey: string, actor: string): boolean
}
