import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'
import {gatewayPort, op, readSse, sseEvents, tcpRequest} from './helpers/gateway-kit.js'

let env: TestEnv
let gateway: DaemonProcess
let port: number
const SSE_ENV = {OSMODA_GATEWAY_SSE: JSON.stringify({keepaliveSecs: 0.2, maxSecs: 2}), OSMODA_GATEWAY_EVENT_RETENTION: JSON.stringify({rows: 10})}
const auth = () => ({authorization: `Bearer ${env.token('operator')}`})

async function toggle(times: number): Promise<void> {
  for (let i = 0; i < times; i++) await op(env, 'PATCH', '/config/agents/mobile', {enabled: i % 2 === 1})
}

beforeAll(async () => {
  env = await testEnv()
  gateway = await env.start('gateway', SSE_ENV)
  port = await gatewayPort(env)
}, 60_000)

afterAll(async () => {
  await gateway?.stopClean()
  await env?.cleanup()
})

describe('GET /events (SSE)', () => {
  const bad = [
    'cursor=-1',
    'cursor=abc',
    'cursor=1.5',
    'cursor=1e3',
    'cursor=99999999999999999999',
    'cursor=',
    'cursor=1&cursor=2',
    'filter=',
    'filter=bogus',
    'filter=request,,state',
    'filter=REQUEST',
    `filter=${'request,'.repeat(40)}request`,
    'types=',
    'types=Request.',
    'types=../../etc',
    'types=a%20b',
    `types=${Array.from({length: 33}, (_, i) => `t${i}.`).join(',')}`,
    'follow=1',
    'cursor=%00',
  ]
  it.each(bad)('refuses %s with 400', async (query) => {
    const res = await tcpRequest(port, 'GET', `/events?${query}`, {headers: auth()})
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('VALIDATION_FAILED')
  })

  it('refuses a malformed Last-Event-ID', async () => {
    const res = await tcpRequest(port, 'GET', '/events', {headers: {...auth(), 'last-event-id': 'x'}})
    expect(res.status).toBe(400)
  })

  it('replays from a cursor, filters by category and type, and resumes with Last-Event-ID', async () => {
    // Given a few state changes
    await toggle(4)
    // When the stream is read from the start
    const all = await readSse(port, '/events?cursor=0&filter=state', auth(), (text) => sseEvents(text).length >= 4)
    expect(all.status).toBe(200)
    const events = sseEvents(all.text)
    // Then every event carries the documented fields, in seq order, only state ones
    expect(events.length).toBeGreaterThanOrEqual(4)
    for (const e of events) expect(Object.keys(e).sort()).toEqual(['agent_id', 'category', 'data', 'request_id', 'seq', 'ts', 'type'])
    expect(events.every((e) => e.category === 'state')).toBe(true)
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b))
    expect(all.text).toMatch(/^id: \d+\nevent: server\ndata: /m)
    // And a resume after the second event gets only the later ones
    const second = events[1].seq
    const resumed = await readSse(port, '/events?filter=state', {...auth(), 'last-event-id': String(second)}, (text) => sseEvents(text).length >= events.length - 2)
    expect(sseEvents(resumed.text)[0].seq).toBeGreaterThan(second)
    // And a types prefix narrows to the matching types
    const typed = await readSse(port, '/events?cursor=0&types=request.', auth(), () => false, 600)
    expect(sseEvents(typed.text).filter((e) => !e.type.startsWith('request.'))).toEqual([])
  })

  it('delivers live events to a subscriber without a cursor', async () => {
    const reading = readSse(port, '/events?types=state.changed', auth(), (text) => sseEvents(text).some((e) => e.agent_id === 'mobile'))
    await new Promise((r) => setTimeout(r, 200))
    await toggle(1)
    const live = await reading
    expect(sseEvents(live.text).find((e) => e.agent_id === 'mobile')).toMatchObject({category: 'state', type: 'state.changed', data: {agent_id: 'mobile', agent_enabled: false}})
  })

  it('sends keepalives and closes after maxSecs', async () => {
    const started = Date.now()
    const res = await readSse(port, '/events', auth(), () => false, 10_000)
    expect(res.text).toContain(': keepalive')
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('sends event: reset first when the cursor is older than retention', async () => {
    // Given more events than retention keeps, pruned at the next start
    await toggle(30)
    await gateway.stopClean()
    gateway = await env.start('gateway', SSE_ENV)
    port = await gatewayPort(env)
    // When a client resumes from the very beginning
    const res = await readSse(port, '/events?cursor=1', auth(), (text) => sseEvents(text).length >= 3)
    // Then the first frame is reset with the oldest retained seq, followed by the retained events
    expect(res.text.startsWith('event: reset\ndata: ')).toBe(true)
    const oldest = JSON.parse(/^data: (.*)$/m.exec(res.text)?.[1] ?? '{}').oldest_seq
    expect(oldest).toBeGreaterThan(2)
    expect(sseEvents(res.text)[0].seq).toBe(oldest)
  })
})

describe('requests, agents and sessions routes', () => {
  const bad = [
    {method: 'GET', path: '/requests?limit=0', status: 400},
    {method: 'GET', path: '/requests?limit=-1', status: 400},
    {method: 'GET', path: '/requests?limit=abc', status: 400},
    {method: 'GET', path: '/requests?status=running', status: 400},
    {method: 'GET', path: '/requests?action=shell', status: 400},
    {method: 'GET', path: '/requests?cursor=../x', status: 400},
    {method: 'GET', path: '/requests?extra=1', status: 400},
    {method: 'GET', path: '/requests/req_01JD0000000000000000000000', status: 404},
    {method: 'GET', path: '/requests/nope', status: 400},
    {method: 'POST', path: '/requests/req_01JD0000000000000000000000/stop', status: 404},
    {method: 'POST', path: '/agents/ghost/restart', status: 404},
    {method: 'POST', path: '/agents/osmoda/heartbeat', body: {request_id: 'req_01JD0000000000000000000000', in_flight_tools: 0}, status: 404},
    {method: 'POST', path: '/agents/osmoda/heartbeat', body: {request_id: 'req_01JD0000000000000000000000', in_flight_tools: 65}, status: 400},
    {method: 'POST', path: '/agents/osmoda/heartbeat', body: {request_id: 'req_01JD0000000000000000000000'}, status: 400},
    {method: 'POST', path: '/agents/osmoda/heartbeat', body: {request_id: 'req_01JD0000000000000000000000', in_flight_tools: -1}, status: 400},
    {method: 'GET', path: '/chat-history?session_id=ses_01JD0000000000000000000000', status: 404},
    {method: 'GET', path: '/chat-history?since=-1', status: 400},
    {method: 'GET', path: '/chat-history?limit=0', status: 400},
    {method: 'GET', path: '/chat-history?session_key=a%20b', status: 400},
    {method: 'DELETE', path: '/sessions/ses_01JD0000000000000000000000', status: 404},
    {method: 'DELETE', path: '/sessions/abc', status: 400},
    {method: 'GET', path: '/diagnostics/log?level=fatal', status: 400},
    {method: 'GET', path: '/diagnostics/log?limit=0', status: 400},
    {method: 'POST', path: '/chat', body: {}, status: 400},
    {method: 'POST', path: '/chat', body: {text: ''}, status: 400},
    {method: 'POST', path: '/chat', body: {text: 'x'.repeat(100_001)}, status: 400},
    {method: 'POST', path: '/chat', body: {text: 'hi', channel: 'irc'}, status: 400},
    {method: 'POST', path: '/chat', body: {text: 'hi', cwd: 'relative'}, status: 400},
    {method: 'POST', path: '/chat', body: {text: 'hi', supersede: 'yes'}, status: 400},
    {method: 'POST', path: '/chat', body: {text: 'hi', agent_id: 'ghost'}, status: 404},
    {method: 'POST', path: '/chat', body: {text: 'hi'}, status: 503},
  ]
  it.each(bad)('$method $path → $status', async (row) => {
    const res = await op(env, row.method, row.path, row.body)
    expect(res.status).toBe(row.status)
    expect(res.body.error.code).toEqual(expect.any(String))
  })

  it('answers AGENT_DISCONNECTED with a fallback recommendation when no credential exists', async () => {
    const res = await op(env, 'POST', '/chat', {text: 'hi'})
    expect(res.body.error).toMatchObject({code: 'AGENT_DISCONNECTED', details: {reason: 'no_credential', fallback_recommendation: 'configure_agent'}})
  })

  it('lets the agent role chat only as a sub-request of its own running request', async () => {
    const res = await op(env, 'POST', '/chat', {text: 'hi'}, 'agent')
    expect(res.status).toBe(403)
  })

  it('lists agents with their liveness fields', async () => {
    const res = await op(env, 'GET', '/agents')
    expect(res.body.agents[0]).toMatchObject({id: 'osmoda', has_credential: false, agent_wedged: false, chat_responsive: null, active_request_ids: [], last_frame_at: null})
  })

  it('serves the diagnostics log as NDJSON', async () => {
    const res = await op(env, 'GET', '/diagnostics/log?level=info')
    const lines = res.text.trim().split('\n').map((l) => JSON.parse(l))
    expect(lines.some((l) => l.kind === 'start')).toBe(true)
  })
})
