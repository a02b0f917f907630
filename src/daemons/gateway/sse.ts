import type {IncomingMessage, ServerResponse} from 'node:http'
import {z} from 'zod'
import {validationError} from '../../lib/rpc/validation.js'
import {OsmodaError} from '../../lib/errors.js'
import {EVENT_CATEGORIES, type EventBus, type StreamEvent} from './events.js'

const MAX_BUFFERED_BYTES = 8 * 1024 * 1024
const REPLAY_PAGE = 1000

const Cursor = z.string().regex(/^(0|[1-9][0-9]{0,15})$/, 'expected a non-negative integer').transform(Number)
const TypePrefix = z.string().regex(/^[a-z][a-z0-9_]*(\.([a-z][a-z0-9_]*|\*)?)?$/, 'expected a type prefix like request. or request.completed or agent.*')

/** The query of GET /events (SPEC §2.10): cursor, filter (categories), types (type prefixes). */
export const EventsQuery = z.strictObject({
  cursor: Cursor.optional().describe('Resume after this seq (also Last-Event-ID)'),
  filter: z
    .string()
    .max(200)
    .transform((s) => s.split(','))
    .pipe(z.array(z.enum(EVENT_CATEGORIES)).min(1).max(EVENT_CATEGORIES.length))
    .optional()
    .describe('Comma list of categories: request,state,agent,heartbeat,ledger,notification'),
  types: z
    .string()
    .max(1000)
    .transform((s) => s.split(','))
    .pipe(z.array(TypePrefix).min(1).max(32))
    .optional()
    .describe('Comma list of type prefixes'),
})

/** A parsed GET /events request. */
export type EventsQuery = z.output<typeof EventsQuery>

/** Parses the query string and Last-Event-ID; bad input is 400 VALIDATION_FAILED. */
export function parseEventsQuery(url: URL, req: IncomingMessage): EventsQuery {
  const raw: Record<string, string> = {}
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key)
    if (values.length > 1) throw new OsmodaError('VALIDATION_FAILED', `query parameter ${key} given twice`, {details: [`${key}: given more than once`]})
    raw[key] = values[0] as string
  }
  const lastEventId = req.headers['last-event-id']
  if (raw.cursor === undefined && typeof lastEventId === 'string' && lastEventId !== '') raw.cursor = lastEventId
  const parsed = EventsQuery.safeParse(raw)
  if (!parsed.success) throw validationError(parsed.error)
  return parsed.data
}

/** Whether an event passes the category filter and type prefixes. */
export function eventMatches(query: EventsQuery, event: StreamEvent): boolean {
  if (query.filter && !query.filter.includes(event.category)) return false
  if (query.types && !query.types.some((t) => event.type.startsWith(t.endsWith('*') ? t.slice(0, -1) : t))) return false
  return true
}

const frame = (event: StreamEvent) => `id: ${event.seq}\nevent: server\ndata: ${JSON.stringify(event)}\n\n`

/**
 * Serves the SSE stream: `reset` first when the cursor is older than retention, the retained
 * events after the cursor, then live ones, with keepalive comments and a maximum duration. A
 * consumer that falls 8 MiB behind is disconnected; it resumes with Last-Event-ID.
 */
export function serveEvents(res: ServerResponse, bus: EventBus, query: EventsQuery, options: {keepaliveMs: number; maxMs: number; signal: AbortSignal}): Promise<void> {
  return new Promise<void>((resolve) => {
    res.writeHead(200, {'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no'})
    res.flushHeaders()
    let replaying = true
    const queued: StreamEvent[] = []
    let last = query.cursor ?? bus.bounds().newest
    let finished = false
    // Frames of one burst go out in one write (one syscall per subscriber, not per event).
    let pending = ''
    let flushing = false
    const flush = () => {
      flushing = false
      if (finished || !pending) return
      res.write(pending)
      pending = ''
      if (res.writableLength > MAX_BUFFERED_BYTES) finish()
    }
    const write = (text: string) => {
      if (finished) return
      pending += text
      if (!flushing) {
        flushing = true
        setImmediate(flush)
      }
    }
    const deliver = (event: StreamEvent) => {
      if (event.seq <= last) return
      last = event.seq
      if (eventMatches(query, event)) write(frame(event))
    }
    const unsubscribe = bus.subscribe((event) => (replaying ? queued.push(event) : deliver(event)))
    const keepalive = setInterval(() => write(': keepalive\n\n'), options.keepaliveMs)
    const cap = setTimeout(() => finish(), options.maxMs)
    const onAbort = () => finish()
    options.signal.addEventListener('abort', onAbort, {once: true})
    res.once('close', onAbort)
    function finish() {
      if (finished) return
      finished = true
      unsubscribe()
      clearInterval(keepalive)
      clearTimeout(cap)
      options.signal.removeEventListener('abort', onAbort)
      res.end(pending || undefined)
      pending = ''
      resolve()
    }

    if (query.cursor !== undefined) {
      const {oldest} = bus.bounds()
      if (oldest !== null && query.cursor < oldest - 1) write(`event: reset\ndata: ${JSON.stringify({oldest_seq: oldest})}\n\n`)
    }
    for (let page = bus.since(last, REPLAY_PAGE); page.length && !finished; page = bus.since(last, REPLAY_PAGE)) {
      for (const event of page) deliver(event)
    }
    replaying = false
    for (const event of queued.splice(0)) deliver(event)
  })
}
