import type {IncomingMessage, ServerResponse} from 'node:http'
import {OsmodaError} from '../../lib/errors.js'
import type {TokenAuth} from '../../lib/rpc/auth.js'
import {authenticateRequest, type RequestContext} from '../../lib/rpc/server.js'
import type {ExtensionResponse, ExtensionRoute, GatewayServices} from './extension.js'
import {parseEventsQuery, serveEvents} from './sse.js'

const DEFAULT_MAX_BODY = 1024 * 1024

/** The page GET / serves until a web UI extension replaces it. */
const DEFAULT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>osmoda gateway</title></head>
<body><h1>osmoda gateway</h1><p>The API is served here; chat over WS /chat or POST /chat with the operator token.</p></body></html>
`

interface CompiledExtension {
  route: ExtensionRoute
  regex: RegExp
  params: string[]
}

/** Compiles extension routes once; `{param}` segments match one path segment. */
export function compileExtensions(routes: ExtensionRoute[]): CompiledExtension[] {
  return routes.map((route) => {
    const params = [...route.path.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1] as string)
    const pattern = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[a-z_]+\}/g, '([^/]+)')
    return {route, regex: new RegExp(`^${pattern}$`), params}
  })
}

async function readRaw(req: IncomingMessage, limit: number): Promise<Buffer> {
  if (Number(req.headers['content-length'] ?? 0) > limit) throw tooLarge(limit)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) throw tooLarge(limit)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

function tooLarge(limit: number): OsmodaError {
  return new OsmodaError('PAYLOAD_TOO_LARGE', `request body is over the ${limit}-byte limit`, {details: {limit_bytes: limit}})
}

function sendResponse(res: ServerResponse, out: ExtensionResponse): void {
  const headers = {...out.headers}
  let body: string | Buffer | undefined
  if (out.body === undefined) body = undefined
  else if (typeof out.body === 'string' || Buffer.isBuffer(out.body)) body = out.body
  else {
    body = JSON.stringify(out.body)
    headers['content-type'] ??= 'application/json'
  }
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body))
  res.writeHead(out.status, headers)
  res.end(body)
}

/** Dependencies of the routes that sit before the zod route table. */
export interface FrontDeps {
  auth: TokenAuth
  services: () => GatewayServices
  extensions: () => CompiledExtension[]
  version: string
  /** The A2A card from agentd (`GET /agent/card` → `card`). */
  agentCard: () => Promise<unknown>
  /** Aborted when the gateway drains (closes SSE streams). */
  drain: AbortSignal
}

/**
 * The gateway's public and streaming routes, tried before the route table: extension routes
 * (webhooks, the web UI), GET / , the minimal GET /health without a token, the public agent card
 * and GET /events (SSE). Everything else falls through to the authenticated JSON routes.
 */
export function createFront(deps: FrontDeps) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    const path = url.pathname
    for (const ext of deps.extensions()) {
      if (ext.route.method !== req.method) continue
      const match = ext.regex.exec(path)
      if (!match) continue
      let caller: Omit<RequestContext, 'signal'> | null = null
      if (ext.route.auth === 'operator') caller = authenticateRequest(deps.auth, req, ['operator'], `${ext.route.method} ${ext.route.path}`)
      const params: Record<string, string> = {}
      ext.params.forEach((name, i) => {
        try {
          params[name] = decodeURIComponent(match[i + 1] ?? '')
        } catch {
          throw new OsmodaError('VALIDATION_FAILED', `path parameter ${name} is not valid percent-encoding`, {details: [`${name}: malformed percent-encoding`]})
        }
      })
      const raw = req.method === 'GET' ? Buffer.alloc(0) : await readRaw(req, ext.route.maxBodyBytes ?? DEFAULT_MAX_BODY)
      const abort = new AbortController()
      res.once('close', () => abort.abort())
      const out = await ext.route.handle(req, raw, {params, query: url.searchParams, caller, services: deps.services(), signal: abort.signal}, res)
      if (out !== 'handled') sendResponse(res, out)
      return true
    }
    if (req.method !== 'GET') return false
    if (path === '/') {
      sendResponse(res, {status: 200, headers: {'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store'}, body: DEFAULT_PAGE})
      return true
    }
    if (path === '/health' && !req.headers.authorization) {
      // The unauthenticated variant leaks nothing but liveness and the version (SPEC §1.14).
      sendResponse(res, {status: 200, body: {status: 'ok', version: deps.version}})
      return true
    }
    if (path === '/.well-known/agent-card.json') {
      sendResponse(res, {status: 200, headers: {'cache-control': 'max-age=300'}, body: await deps.agentCard()})
      return true
    }
    if (path === '/events') {
      authenticateRequest(deps.auth, req, ['operator'], 'GET /events')
      const query = parseEventsQuery(url, req)
      const config = deps.services().config()
      const abort = new AbortController()
      const onDrain = () => abort.abort()
      deps.drain.addEventListener('abort', onDrain, {once: true})
      try {
        await serveEvents(res, deps.services().events, query, {keepaliveMs: config.sse.keepaliveSecs * 1000, maxMs: config.sse.maxSecs * 1000, signal: abort.signal})
      } finally {
        deps.drain.removeEventListener('abort', onDrain)
      }
      return true
    }
    return false
  }
}
