import {Agent, request, type IncomingMessage} from 'node:http'
import type {z} from 'zod'
import {BugError, DaemonUnavailableError, OsmodaError, PermissionDeniedError, UsageError, type ErrorEnvelope} from '../errors.js'
import {encodeQuery} from './query.js'
import {type Api, type AnyRoute, pathParams, usesQuery} from './route.js'
import {parseNdjson} from './stream.js'

const DEFAULT_TIMEOUT_MS = 30_000

/** How a client reaches a daemon and who it says it is. */
export interface ClientOptions {
  socketPath: string
  token: string
  /** Extra headers on every request (X-Osmoda-Agent-Id, X-Osmoda-Operator, correlation ids). */
  headers?: Record<string, string>
  timeoutMs?: number
}

/** Per-call options. */
export interface CallOptions {
  signal?: AbortSignal
  timeoutMs?: number
  headers?: Record<string, string>
}

type InputOf<R extends AnyRoute> = z.input<R['input']>
type OutputOf<R extends AnyRoute> = z.output<R['output']>
type RequiredKeys<T> = {[K in keyof T]-?: undefined extends T[K] ? never : K}[keyof T]
// A route whose input has no required field can be called without an argument.
type InputOptional<T> = string extends keyof T ? true : [RequiredKeys<T>] extends [never] ? true : false
type MethodOf<R extends AnyRoute> = InputOptional<InputOf<R>> extends true
  ? (input?: InputOf<R>, options?: CallOptions) => Promise<OutputOf<R>>
  : (input: InputOf<R>, options?: CallOptions) => Promise<OutputOf<R>>

/** A typed client: one method per route of the API, plus NDJSON follow streams. */
export type RpcClient<A extends Api> = {[K in keyof A]: MethodOf<A[K]>} & {
  /** Opens a `follow=1` stream of the route and yields each NDJSON object. */
  follow<K extends keyof A>(name: K, input: InputOf<A[K]>, options?: CallOptions): AsyncGenerator<unknown>
  /** Closes idle keep-alive connections. */
  close(): void
}

/** Builds the typed client of a daemon from its route table. */
export function createClient<A extends Api>(daemon: string, api: A, options: ClientOptions): RpcClient<A> {
  const agent = new Agent({keepAlive: true, maxSockets: 16})
  const headers = {authorization: `Bearer ${options.token}`, ...options.headers}

  const open = (def: AnyRoute, input: Record<string, unknown> = {}, call: CallOptions = {}, follow = false): Promise<IncomingMessage> => {
    const rest = {...input}
    let path = def.path
    for (const name of pathParams(def.path)) {
      const value = rest[name]
      if (typeof value !== 'string' || value === '') throw new UsageError(`${name} is required`, {details: [`${name}: Required`]})
      path = path.replace(`{${name}}`, encodeURIComponent(value))
      delete rest[name]
    }
    const query = usesQuery(def)
    if (follow) rest.follow = true
    const body = query ? undefined : JSON.stringify(rest)
    const timeoutMs = call.timeoutMs ?? routeDeadline(rest) ?? options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(
        {
          socketPath: options.socketPath,
          agent,
          method: def.method,
          path: query ? path + encodeQuery(rest) : path,
          headers: {...headers, ...call.headers, ...(body === undefined ? {} : {'content-type': 'application/json', 'content-length': Buffer.byteLength(body)})},
          signal: call.signal,
          timeout: follow ? 0 : timeoutMs,
        },
        resolve,
      )
      req.once('timeout', () => req.destroy(new OsmodaError('UPSTREAM_TIMEOUT', `${daemon} did not answer ${def.method} ${def.path} within ${timeoutMs} ms`)))
      req.once('error', (error) => reject(connectionError(daemon, options.socketPath, error)))
      req.end(body)
    })
  }

  const call = async (def: AnyRoute, input?: Record<string, unknown>, callOptions?: CallOptions) => {
    const res = await open(def, input, callOptions)
    const text = await readAll(res)
    const status = res.statusCode ?? 0
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      throw new BugError(`${daemon} answered ${status} with a body that is not JSON`)
    }
    if (status >= 200 && status < 300) return value
    throw errorFromEnvelope(status, value)
  }

  const client: Record<string, unknown> = {
    close: () => agent.destroy(),
    async *follow(name: string, input: Record<string, unknown>, callOptions?: CallOptions) {
      const def = api[name]
      if (!def) throw new BugError(`unknown route ${name}`)
      const res = await open(def, input, callOptions, true)
      if ((res.statusCode ?? 0) >= 300) throw errorFromEnvelope(res.statusCode ?? 0, JSON.parse(await readAll(res)))
      try {
        yield* parseNdjson(res)
      } catch (error) {
        if (callOptions?.signal?.aborted) return
        throw connectionError(daemon, options.socketPath, error as Error)
      }
    },
  }
  for (const [name, def] of Object.entries(api)) client[name] = (input?: Record<string, unknown>, callOptions?: CallOptions) => call(def, input, callOptions)
  return client as RpcClient<A>
}

/** The typed error for a daemon's error envelope (the one place statuses become errors). */
export function errorFromEnvelope(status: number, body: unknown): OsmodaError {
  const error = (body as Partial<ErrorEnvelope> | null)?.error
  if (!error || typeof error.code !== 'string') return new BugError(`daemon answered ${status} without an error envelope`)
  const options = {hint: error.hint, details: error.details}
  if (error.code === 'UNAUTHENTICATED' || error.code === 'FORBIDDEN' || error.code === 'POLICY_DENIED' || error.code === 'PATH_DENIED') {
    return new PermissionDeniedError(error.code, error.message, options)
  }
  if (error.code === 'VALIDATION_FAILED' || error.code === 'INVALID_JSON') return new UsageError(error.message, {...options, code: error.code})
  return new OsmodaError(error.code, error.message, options)
}

function connectionError(daemon: string, socketPath: string, error: Error & {code?: string}): OsmodaError {
  if (error instanceof OsmodaError) return error
  if (error.name === 'AbortError') return new OsmodaError('ABORTED', 'request aborted', {exitCode: 130})
  if (error.code === 'EACCES') {
    return new PermissionDeniedError('FORBIDDEN', `permission denied on ${socketPath}`, {hint: 'join the osmoda group or run as root'})
  }
  if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED' || error.code === 'ECONNRESET' || error.code === 'EPIPE') {
    return new DaemonUnavailableError(daemon, `osmoda-${daemon} is not reachable at ${socketPath} (${error.code})`)
  }
  return new DaemonUnavailableError(daemon, `osmoda-${daemon}: ${error.message}`)
}

function routeDeadline(input: Record<string, unknown>): number | undefined {
  const secs = input.timeout_secs ?? input.timeout_seconds
  // Route deadlines get 5 s on top so the daemon's own timeout answers first (SPEC §1.3).
  return typeof secs === 'number' && secs > 0 ? (secs + 5) * 1000 : undefined
}

// Events rather than `for await`: async iteration costs a few microseconds per response, which
// shows on the MCP hot path (two daemon requests per tool call).
function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    res.on('data', (chunk: Buffer) => chunks.push(chunk))
    res.once('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8')))
    res.once('error', reject)
  })
}
