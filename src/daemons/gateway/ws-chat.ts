import type {IncomingMessage} from 'node:http'
import type {Socket} from 'node:net'
import {WebSocketServer, type WebSocket} from 'ws'
import {z} from 'zod'
import {OsmodaError, toOsmodaError} from '../../lib/errors.js'
import type {Logger} from '../../lib/log.js'
import type {TokenAuth} from '../../lib/rpc/auth.js'
import {contextForToken} from '../../lib/rpc/server.js'
import {issueList} from '../../lib/rpc/validation.js'
import {AgentId} from './agents-file.js'
import type {ChatFrame, ChatService} from './chat-types.js'
import type {EventBus} from './events.js'

/** The subprotocol the server selects; browsers offer it beside `osmoda.bearer.<token>`. */
export const WS_PROTOCOL = 'osmoda.v1'
const BEARER_PREFIX = 'osmoda.bearer.'
/** Largest client frame; larger ones close the socket with 1009. */
export const WS_MAX_PAYLOAD = 512 * 1024

const RequestId = z.string().regex(/^req_[0-7][0-9A-HJKMNP-TV-Z]{25}$/, 'expected req_<ULID>')

/** Client → server frames (SPEC §2.10). */
export const ClientFrame = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('chat'),
    text: z.string().min(1).max(100_000),
    agent_id: AgentId.optional(),
    session_key: z.string().min(1).max(200).regex(/^[A-Za-z0-9:._@+-]+$/).optional(),
    supersede: z.boolean().optional(),
  }),
  z.strictObject({type: z.literal('stop'), request_id: RequestId}),
  z.strictObject({type: z.literal('ping')}),
])

/** The token of an upgrade request: the Authorization header, else the `osmoda.bearer.<token>` subprotocol. */
export function upgradeToken(req: IncomingMessage): string | undefined {
  const header = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1]
  if (header) return header
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim())
  const bearer = offered.find((p) => p.startsWith(BEARER_PREFIX))
  return bearer ? bearer.slice(BEARER_PREFIX.length) || undefined : undefined
}

function refuse(socket: Socket, error: OsmodaError): void {
  const body = JSON.stringify(error.toEnvelope())
  const reason = error.httpStatus === 401 ? 'Unauthorized' : error.httpStatus === 403 ? 'Forbidden' : error.httpStatus === 404 ? 'Not Found' : 'Bad Request'
  socket.end(`HTTP/1.1 ${error.httpStatus} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
}

/** WS /chat: authenticates before the upgrade, then speaks the typed frames. */
export function createChatSockets(deps: {auth: TokenAuth; chat: () => ChatService; events: EventBus; log: Logger}) {
  const wss = new WebSocketServer({noServer: true, maxPayload: WS_MAX_PAYLOAD, handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false)})

  const attach = (ws: WebSocket, actor: string) => {
    const requests = new Set<string>()
    const agents = new Set<string>()
    const send = (frame: ChatFrame) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame))
    }
    const unsubscribe = deps.events.subscribe((event) => {
      if ((event.request_id && requests.has(event.request_id)) || (event.agent_id && agents.has(event.agent_id) && event.category !== 'heartbeat')) send({type: 'event', event})
    })
    ws.on('message', (data, isBinary) => {
      if (isBinary) return send({type: 'error', request_id: null, code: 'INVALID_JSON', message: 'frames are JSON text'})
      let value: unknown
      try {
        value = JSON.parse(data.toString())
      } catch {
        return send({type: 'error', request_id: null, code: 'INVALID_JSON', message: 'frame is not valid JSON'})
      }
      const parsed = ClientFrame.safeParse(value)
      if (!parsed.success) return send({type: 'error', request_id: null, code: 'VALIDATION_FAILED', message: issueList(parsed.error).slice(0, 3).join('; ')})
      const frame = parsed.data
      if (frame.type === 'ping') return send({type: 'pong'})
      if (frame.type === 'stop') {
        deps
          .chat()
          .stop(frame.request_id, actor)
          .catch((error: unknown) => {
            const failure = toOsmodaError(error)
            send({type: 'error', request_id: frame.request_id, code: failure.code, message: failure.message})
          })
        return
      }
      try {
        const accepted = deps.chat().submit({text: frame.text, agent_id: frame.agent_id, channel: 'web', session_key: frame.session_key, supersede: frame.supersede}, {actor, role: 'operator'}, send)
        requests.add(accepted.request_id)
        agents.add(accepted.agent_id)
      } catch (error) {
        const failure = toOsmodaError(error)
        if (failure.code === 'INTERNAL') deps.log.error('ws chat failed', {error})
        send({type: 'error', request_id: null, code: failure.code, message: failure.message})
      }
    })
    ws.on('error', () => ws.terminate())
    // Closing the socket never stops its runs (SPEC §2.10): only the subscriptions go.
    ws.once('close', () => unsubscribe())
  }

  return {
    handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer) {
      socket.on('error', () => socket.destroy())
      const url = new URL(req.url ?? '/', 'http://osmoda')
      if (url.pathname !== '/chat') return refuse(socket, new OsmodaError('NOT_FOUND', `no WebSocket endpoint ${url.pathname}`))
      let actor: string
      try {
        actor = contextForToken(deps.auth, req, upgradeToken(req), ['operator'], 'WS /chat').actor
      } catch (error) {
        return refuse(socket, toOsmodaError(error))
      }
      wss.handleUpgrade(req, socket, head, (ws) => attach(ws, actor))
    },
    /** Open sockets (tests, health). */
    count: () => wss.clients.size,
    close() {
      for (const ws of wss.clients) ws.close(1001, 'gateway stopping')
      wss.close()
    },
  }
}
