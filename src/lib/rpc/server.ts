import {setMaxListeners} from 'node:events'
import {chmodSync, mkdirSync, unlinkSync} from 'node:fs'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {connect, type AddressInfo, type Socket} from 'node:net'
import {dirname} from 'node:path'
import {randomUUID} from 'node:crypto'
import type {z} from 'zod'
import {ConflictError, OsmodaError, toOsmodaError} from '../errors.js'
import type {Logger} from '../log.js'
import type {TokenAuth} from './auth.js'
import {readJsonBody} from './body.js'
import {decodeQuery} from './query.js'
import {type Api, type AnyRoute, type Role, pathParams, usesQuery} from './route.js'
import {NdjsonStream} from './stream.js'
import {validationError} from './validation.js'

const DEFAULT_MAX_BODY = 1024 * 1024
const DRAIN_MS = 5000
const AGENT_ID_RE = /^[a-z][a-z0-9-]{0,31}$/
const OPERATOR_RE = /^(daemon:)?[a-z_][a-z0-9_-]{0,31}$/
const CORRELATION_RE = /^[\x21-\x7e]{1,64}$/

/** Who is calling, derived by the daemon from the token and headers (never from the body). */
export interface RequestContext {
  role: Role
  /** Ledger actor: `agent:<id>`, `operator:<user>` or a daemon name (SPEC §1.4). */
  actor: string
  agentId: string | null
  sessionId: string | null
  requestId: string | null
  /** Aborted when the client goes away or the daemon drains. */
  signal: AbortSignal
}

/** The implementation of one route. */
export type Handler<R extends AnyRoute> = (
  input: z.output<R['input']>,
  ctx: RequestContext,
) => Promise<z.input<R['output']> | NdjsonStream> | z.input<R['output']> | NdjsonStream

/** Implementations for every route of an API: a missing one is a compile error. */
export type Handlers<A extends Api> = {[K in keyof A]: Handler<A[K]>}

/** Options for createRpcServer. */
export interface RpcServerOptions<A extends Api> {
  daemon: string
  version: string
  api: A
  handlers: Handlers<A>
  auth: TokenAuth
  log: Logger
  /**
   * Answers a request before the route table (public pages, SSE, webhooks): resolves true when it
   * has handled the request. Thrown errors become the error envelope. The gateway's only.
   */
  intercept?: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> | boolean
  /** Handles HTTP upgrades (WebSockets); without it upgrades are refused. */
  onUpgrade?: (req: IncomingMessage, socket: Socket, head: Buffer) => void
}

/** A daemon's HTTP-over-Unix-socket server. */
export interface RpcServer {
  listen(socketPath: string): Promise<void>
  /** Also serves the same API on TCP (the gateway); resolves with the bound port. */
  listenTcp(host: string, port: number): Promise<number>
  /** Stops accepting, aborts streams, drains in-flight requests (5 s) and removes the socket. */
  close(): Promise<void>
}

interface CompiledRoute {
  key: string
  def: AnyRoute
  regex: RegExp
  params: string[]
}

function compile(api: Api): CompiledRoute[] {
  const compiled = Object.entries(api).map(([key, def]) => {
    // Braces are not escaped, so `{param}` segments can be swapped for a capture group.
    const pattern = def.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[a-z_]+\}/g, '([^/]+)')
    return {key, def, regex: new RegExp(`^${pattern}$`), params: pathParams(def.path)}
  })
  // A literal segment beats a parameter: GET /approval/rules is that route, not GET /approval/{id}
  // with id "rules", whatever order the table lists them in (the sort is stable).
  return compiled.sort((a, b) => a.params.length - b.params.length)
}

/** Builds the server for a route table; every request is authenticated, validated and answered with JSON. */
export function createRpcServer<A extends Api>(options: RpcServerOptions<A>): RpcServer {
  const {daemon, version, auth, log} = options
  const routes = compile(options.api)
  const handlers = options.handlers as Record<string, Handler<AnyRoute>>
  const draining = new AbortController()
  // Each in-flight request listens for the drain; many concurrent ones are normal.
  setMaxListeners(0, draining.signal)
  const inflight = new Set<Promise<void>>()
  let socketPath: string | null = null

  const send = (res: ServerResponse, status: number, body: unknown) => {
    if (res.headersSent) return res.end()
    const text = JSON.stringify(body)
    res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)})
    res.end(text)
  }

  const sendError = (res: ServerResponse, error: unknown, req: IncomingMessage) => {
    let failure = toOsmodaError(error)
    if (failure.code === 'INTERNAL') {
      const logId = randomUUID()
      log.error('request failed', {log_id: logId, method: req.method, url: req.url, error, stack: (error as Error)?.stack})
      failure = new OsmodaError('INTERNAL', 'internal error', {details: {log_id: logId}, hint: `see the osmoda-${daemon} log for ${logId}`})
    }
    send(res, failure.httpStatus, failure.toEnvelope())
  }

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('x-osmoda-daemon', daemon)
    res.setHeader('x-osmoda-version', version)
    if (draining.signal.aborted) throw new OsmodaError('NOT_READY', `${daemon} is shutting down`, {hint: 'retry in a few seconds'})
    const url = new URL(req.url ?? '/', 'http://osmoda')
    if (options.intercept && (await options.intercept(req, res, url))) return
    const matches = routes.filter((r) => r.regex.test(url.pathname))
    if (matches.length === 0) throw new OsmodaError('NOT_FOUND', `no route ${url.pathname}`)
    const match = matches.find((r) => r.def.method === req.method)
    if (!match) throw new OsmodaError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${url.pathname}`, {details: {allowed: matches.map((r) => r.def.method)}})

    const ctx = authenticate(req, match.def)
    const raw = usesQuery(match.def) ? decodeQuery(match.def.input, url.searchParams) : await readJsonBody(req, match.def.maxBodyBytes ?? DEFAULT_MAX_BODY)
    const values = match.regex.exec(url.pathname)?.slice(1) ?? []
    match.params.forEach((name, i) => {
      raw[name] = decodePathSegment(name, values[i] ?? '')
    })
    const parsed = match.def.input.safeParse(raw)
    if (!parsed.success) throw validationError(parsed.error)

    const abort = new AbortController()
    const onGone = () => abort.abort()
    res.once('close', onGone)
    draining.signal.addEventListener('abort', onGone, {once: true})
    try {
      const result = await handlers[match.key]!(parsed.data, {...ctx, signal: abort.signal})
      if (result instanceof NdjsonStream) return await pipeStream(res, result, abort.signal)
      const output = match.def.output.safeParse(result)
      if (!output.success) throw new OsmodaError('INTERNAL', `${match.key} returned a value outside its contract: ${output.error.message}`)
      send(res, match.def.status ?? 200, output.data)
    } finally {
      draining.signal.removeEventListener('abort', onGone)
      res.off('close', onGone)
    }
  }

  const authenticate = (req: IncomingMessage, def: AnyRoute) => authenticateRequest(auth, req, def.roles, `${def.method} ${def.path}`)

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const task = handle(req, res)
      .catch((error: unknown) => {
        // Unread bodies would stall keep-alive connections; drop what is left.
        req.resume()
        sendError(res, error, req)
      })
      .finally(() => inflight.delete(task))
    inflight.add(task)
  }
  const servers: Server[] = []
  const newServer = (): Server => {
    const created = createServer(listener)
    created.keepAliveTimeout = 65_000
    if (options.onUpgrade) created.on('upgrade', options.onUpgrade)
    servers.push(created)
    return created
  }
  const server = newServer()

  return {
    async listen(path) {
      mkdirSync(dirname(path), {recursive: true})
      await removeStaleSocket(path)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(path, () => {
          server.off('error', reject)
          resolve()
        })
      })
      socketPath = path
      chmodSync(path, 0o660)
    },
    async listenTcp(host, port) {
      const tcp = newServer()
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject)
        tcp.listen(port, host, () => {
          tcp.off('error', reject)
          resolve()
        })
      })
      return (tcp.address() as AddressInfo).port
    },
    async close() {
      draining.abort()
      const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))
      for (const s of servers) s.closeIdleConnections()
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, DRAIN_MS).unref())
      await Promise.race([Promise.allSettled([...inflight]), timeout])
      for (const s of servers) s.closeAllConnections()
      await Promise.all(closed)
      if (socketPath) removeSocket(socketPath)
    },
  }
}

async function pipeStream(res: ServerResponse, stream: NdjsonStream, signal: AbortSignal): Promise<void> {
  res.writeHead(200, {'content-type': 'application/x-ndjson', 'cache-control': 'no-store'})
  res.flushHeaders()
  try {
    for await (const item of stream.source) {
      if (signal.aborted) break
      if (!res.write(`${JSON.stringify(item)}\n`)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done)
            signal.removeEventListener('abort', done)
            resolve()
          }
          res.once('drain', done)
          signal.addEventListener('abort', done, {once: true})
        })
      }
    }
  } finally {
    res.end()
  }
}

/**
 * Derives who is calling from the bearer token and the correlation headers (SPEC §1.3–§1.4):
 * 401 without a known token, 403 when the role is not in `roles`.
 */
export function authenticateRequest(auth: TokenAuth, req: IncomingMessage, roles: readonly Role[], what: string): Omit<RequestContext, 'signal'> {
  const header = req.headers.authorization ?? ''
  const token = /^Bearer (\S+)$/.exec(header)?.[1]
  return contextForToken(auth, req, token, roles, what)
}

/** The request context for an already extracted token (WebSocket subprotocol tokens). */
export function contextForToken(auth: TokenAuth, req: IncomingMessage, token: string | undefined, roles: readonly Role[], what: string): Omit<RequestContext, 'signal'> {
  const role = token ? auth.authenticate(token) : null
  if (!role) throw new OsmodaError('UNAUTHENTICATED', token ? 'unknown token' : 'missing bearer token', {hint: 'send Authorization: Bearer <token> (osmoda init writes the tokens)'})
  if (!roles.includes(role)) throw new OsmodaError('FORBIDDEN', `the ${role} role may not call ${what}`)
  const sessionId = correlation(req, 'x-osmoda-session-id')
  const requestId = correlation(req, 'x-osmoda-request-id')
  if (role === 'agent') {
    const agentId = headerValue(req, 'x-osmoda-agent-id') ?? 'unknown'
    if (!AGENT_ID_RE.test(agentId)) throw new OsmodaError('VALIDATION_FAILED', 'bad X-Osmoda-Agent-Id', {details: [`x-osmoda-agent-id: must match ${AGENT_ID_RE.source}`]})
    return {role, actor: `agent:${agentId}`, agentId, sessionId, requestId}
  }
  const operator = headerValue(req, 'x-osmoda-operator') ?? 'root'
  if (!OPERATOR_RE.test(operator)) throw new OsmodaError('VALIDATION_FAILED', 'bad X-Osmoda-Operator', {details: [`x-osmoda-operator: must match ${OPERATOR_RE.source}`]})
  const actor = operator.startsWith('daemon:') ? operator.slice('daemon:'.length) : `operator:${operator}`
  return {role, actor, agentId: null, sessionId, requestId}
}

/** A path parameter, percent-decoded; a malformed escape is the caller's error, not a crash. */
function decodePathSegment(name: string, text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    throw new OsmodaError('VALIDATION_FAILED', `path parameter ${name} is not valid percent-encoding`, {details: [`${name}: malformed percent-encoding`]})
  }
}

function headerValue(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name]
  return typeof value === 'string' && value !== '' ? value : null
}

function correlation(req: IncomingMessage, name: string): string | null {
  const value = headerValue(req, name)
  if (value !== null && !CORRELATION_RE.test(value)) throw new OsmodaError('VALIDATION_FAILED', `bad ${name} header`, {details: [`${name}: at most 64 printable characters`]})
  return value
}

/** Removes a socket file left by a crashed daemon, refusing if a live daemon still answers on it. */
async function removeStaleSocket(path: string): Promise<void> {
  const alive = await new Promise<boolean>((resolve) => {
    const probe = connect(path)
    probe.once('connect', () => {
      probe.destroy()
      resolve(true)
    })
    probe.once('error', () => resolve(false))
  })
  if (alive) throw new ConflictError(`another process is already serving ${path}`, {code: 'ALREADY_EXISTS', hint: 'stop the running daemon first'})
  removeSocket(path)
}

function removeSocket(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // Already gone.
  }
}
