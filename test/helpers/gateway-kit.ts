import {chmodSync, writeFileSync} from 'node:fs'
import {request} from 'node:http'
import {join} from 'node:path'
import WebSocket from 'ws'
import type {RawResponse} from './raw-request.js'
import type {TestEnv} from './env.js'
import {rawRequest} from './raw-request.js'

/** One exchange with the gateway's TCP listener. */
export function tcpRequest(port: number, method: string, path: string, options: {headers?: Record<string, string>; body?: string | Buffer} = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({host: '127.0.0.1', port, method, path, headers: options.headers}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let body: unknown
        try {
          body = JSON.parse(text)
        } catch {
          body = undefined
        }
        resolve({status: res.statusCode ?? 0, headers: res.headers, text, body})
      })
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

/** The TCP port the gateway bound (tests run it on port 0). */
export async function gatewayPort(env: TestEnv): Promise<number> {
  const res = await rawRequest(env.paths.socket('gateway'), 'GET', '/health', {headers: {authorization: `Bearer ${env.token('operator')}`}})
  return (res.body as {listen: {port: number}}).listen.port
}

/** JSON request helper over the Unix socket with the operator token. */
export function op(env: TestEnv, method: string, path: string, body?: unknown, role: 'operator' | 'agent' = 'operator'): Promise<RawResponse> {
  const headers: Record<string, string> = {authorization: `Bearer ${env.token(role)}`}
  if (body !== undefined) headers['content-type'] = 'application/json'
  return rawRequest(env.paths.socket('gateway'), method, path, {headers, body: body === undefined ? undefined : JSON.stringify(body)})
}

/** The outcome of a WebSocket upgrade attempt. */
export type WsAttempt = {ok: true; ws: WebSocket; protocol: string} | {ok: false; status: number; body: string}

/** Tries to open WS /chat; a refused upgrade resolves with its HTTP status. */
export function wsConnect(port: number, options: {headers?: Record<string, string>; protocols?: string[]; path?: string; maxPayload?: number} = {}): Promise<WsAttempt> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${options.path ?? '/chat'}`, options.protocols ?? [], {headers: options.headers})
    ws.once('open', () => resolve({ok: true, ws, protocol: ws.protocol}))
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d))
      res.on('end', () => resolve({ok: false, status: res.statusCode ?? 0, body}))
    })
    ws.once('error', (error) => reject(error))
  })
}

/** Collects JSON frames of a socket; `next(pred)` waits for the first matching one. */
export function frames(ws: WebSocket) {
  const seen: any[] = []
  const waiters: {pred: (f: any) => boolean; resolve: (f: any) => void}[] = []
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString())
    seen.push(frame)
    for (const w of waiters.slice()) {
      if (w.pred(frame)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(frame)
      }
    }
  })
  return {
    seen,
    next(pred: (f: any) => boolean, timeoutMs = 10_000): Promise<any> {
      const found = seen.find(pred)
      if (found) return Promise.resolve(found)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching frame within ${timeoutMs} ms; seen ${JSON.stringify(seen).slice(0, 2000)}`)), timeoutMs)
        waiters.push({pred, resolve: (f) => (clearTimeout(timer), resolve(f))})
      })
    },
  }
}

/** Reads an SSE stream until `until` says stop (or the server closes); returns the raw text. */
export function readSse(port: number, path: string, headers: Record<string, string>, until: (text: string) => boolean, timeoutMs = 10_000): Promise<{status: number; text: string}> {
  return new Promise((resolve, reject) => {
    const req = request({host: '127.0.0.1', port, path, headers}, (res) => {
      let text = ''
      const timer = setTimeout(() => {
        req.destroy()
        resolve({status: res.statusCode ?? 0, text})
      }, timeoutMs)
      res.on('data', (d: Buffer) => {
        text += d
        if (until(text)) {
          clearTimeout(timer)
          req.destroy()
          resolve({status: res.statusCode ?? 0, text})
        }
      })
      res.on('end', () => {
        clearTimeout(timer)
        resolve({status: res.statusCode ?? 0, text})
      })
    })
    req.on('error', (error) => ((error as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(error)))
    req.end()
  })
}

/** Parses the `data:` objects of `event: server` frames. */
export function sseEvents(text: string): any[] {
  return text
    .split('\n\n')
    .filter((block) => block.includes('event: server'))
    .map((block) => JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null'))
}

/** A claude wrapper around the scripted runtime fixture; the scenario comes from a file so turns can differ. */
export function scriptedRuntime(env: TestEnv, root: string) {
  const scenarioFile = join(env.base, 'scenario')
  const wrapper = join(env.base, 'claude-wrapper')
  writeFileSync(scenarioFile, 'normal')
  writeFileSync(wrapper, `#!/bin/sh\nSCRIPTED_RUNTIME="$(cat ${scenarioFile})" exec ${process.execPath} ${join(root, 'test', 'fixtures', 'scripted-runtime', 'claude')} "$@"\n`)
  chmodSync(wrapper, 0o755)
  return {
    env: {OSMODA_GATEWAY_RUNTIMES: JSON.stringify({claudeCodePath: wrapper})},
    scenario: (name: string) => writeFileSync(scenarioFile, name),
  }
}
