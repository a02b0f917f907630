import WebSocket from 'ws'
import {DaemonUnavailableError, OsmodaError, PermissionDeniedError} from '../../lib/errors.js'
import type {ChatFrame} from './chat-types.js'

/** What one finished turn gives back. */
export interface ChatTurn {
  request_id: string
  session_id: string
  agent_id: string
  reply: string
  tools: {tool: string; target: string | null; ok: boolean | null}[]
}

/** A WS /chat connection over the gateway's Unix socket (the CLI's `osmoda chat`). */
export interface ChatConnection {
  /** Sends one message and resolves when its turn is done; `onFrame` sees every frame of it. */
  send(message: {text: string; agent_id?: string; session_key?: string; supersede?: boolean}, onFrame?: (frame: ChatFrame) => void): Promise<ChatTurn>
  close(): void
}

/** Opens WS /chat on `<run>/gateway.sock` with the operator token. */
export function connectChat(socketPath: string, token: string): Promise<ChatConnection> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws+unix://${socketPath}:/chat`, ['osmoda.v1'], {headers: {authorization: `Bearer ${token}`}})
    let current: {onFrame?: (frame: ChatFrame) => void; resolve: (turn: ChatTurn) => void; reject: (error: Error) => void; turn: Partial<ChatTurn> & {tools: ChatTurn['tools']}} | null = null
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d))
      res.on('end', () => {
        const code = (() => {
          try {
            return (JSON.parse(body) as {error: {code: string; message: string}}).error
          } catch {
            return {code: 'UNAUTHENTICATED', message: `upgrade refused with HTTP ${res.statusCode}`}
          }
        })()
        reject(code.code === 'UNAUTHENTICATED' || code.code === 'FORBIDDEN' ? new PermissionDeniedError(code.code, code.message) : new OsmodaError(code.code, code.message))
      })
    })
    ws.once('error', (error: Error & {code?: string}) => {
      const failure = error.code === 'ENOENT' || error.code === 'ECONNREFUSED' ? new DaemonUnavailableError('gateway', `osmoda-gateway is not reachable at ${socketPath} (${error.code})`) : new OsmodaError('UPSTREAM_FAILED', error.message)
      if (current) current.reject(failure)
      else reject(failure)
    })
    ws.on('close', () => current?.reject(new DaemonUnavailableError('gateway', 'the gateway closed the chat connection')))
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as ChatFrame
      if (!current || frame.type === 'event' || frame.type === 'pong') return
      current.onFrame?.(frame)
      const turn = current.turn
      if (frame.type === 'accepted') Object.assign(turn, {request_id: frame.request_id, session_id: frame.session_id, agent_id: frame.agent_id})
      else if (frame.type === 'tool_use') turn.tools.push({tool: frame.tool, target: frame.target, ok: null})
      else if (frame.type === 'tool_result') {
        const open = [...turn.tools].reverse().find((t) => t.tool === frame.tool && t.ok === null)
        if (open) open.ok = frame.ok
      } else if (frame.type === 'done') {
        const finished = current
        current = null
        finished.resolve({...(finished.turn as ChatTurn), reply: frame.reply})
      } else if (frame.type === 'error') {
        const finished = current
        current = null
        finished.reject(new OsmodaError(frame.code, frame.message, {details: frame.request_id ? {request_id: frame.request_id} : undefined}))
      }
    })
    ws.once('open', () =>
      resolve({
        send(message, onFrame) {
          if (current) return Promise.reject(new OsmodaError('SESSION_BUSY', 'a turn is already running on this connection'))
          return new Promise<ChatTurn>((resolveTurn, rejectTurn) => {
            current = {onFrame, resolve: resolveTurn, reject: rejectTurn, turn: {tools: []}}
            ws.send(JSON.stringify({type: 'chat', ...message}))
          })
        },
        close() {
          current = null
          ws.close()
        },
      }),
    )
  })
}
