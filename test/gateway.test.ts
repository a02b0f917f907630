import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'
import {frames, gatewayPort, op, tcpRequest, wsConnect} from './helpers/gateway-kit.js'
import {rawRequest} from './helpers/raw-request.js'

let env: TestEnv
let gateway: DaemonProcess
let port: number

beforeAll(async () => {
  env = await testEnv()
  gateway = await env.start('gateway')
  port = await gatewayPort(env)
}, 60_000)

afterAll(async () => {
  await gateway?.stopClean()
  await env?.cleanup()
})

describe('gateway auth', () => {
  it('answers the public routes without a token and nothing else', async () => {
    // Given no token at all
    // When the public routes are asked over TCP
    const health = await tcpRequest(port, 'GET', '/health')
    const page = await tcpRequest(port, 'GET', '/')
    // Then health is minimal (no pid, agents or credentials) and the page is HTML
    expect(health.status).toBe(200)
    expect(health.body).toEqual({status: 'ok', version: expect.any(String)})
    expect(page.status).toBe(200)
    expect(page.headers['content-type']).toMatch(/text\/html/)
  })

  const matrix = [
    {name: 'no token on config', path: '/config/agents', headers: {}, want: 401, code: 'UNAUTHENTICATED'},
    {name: 'wrong token on config', path: '/config/agents', headers: {authorization: 'Bearer osm_op_' + 'x'.repeat(43)}, want: 401, code: 'UNAUTHENTICATED'},
    {name: 'malformed authorization', path: '/config/agents', headers: {authorization: 'Basic abc'}, want: 401, code: 'UNAUTHENTICATED'},
    {name: 'agent token on config', path: '/config/agents', role: 'agent', want: 403, code: 'FORBIDDEN'},
    {name: 'agent token on credentials', path: '/config/credentials', role: 'agent', want: 403, code: 'FORBIDDEN'},
    {name: 'agent token on requests list', path: '/requests', role: 'agent', want: 403, code: 'FORBIDDEN'},
    {name: 'agent token on events', path: '/events', role: 'agent', want: 403, code: 'FORBIDDEN'},
    {name: 'no token on events', path: '/events', headers: {}, want: 401, code: 'UNAUTHENTICATED'},
    {name: 'wrong token on health', path: '/health', headers: {authorization: 'Bearer nope'}, want: 401, code: 'UNAUTHENTICATED'},
    {name: 'no token on agents', path: '/agents', headers: {}, want: 401, code: 'UNAUTHENTICATED'},
    {name: 'no token on sessions', path: '/sessions', headers: {}, want: 401, code: 'UNAUTHENTICATED'},
  ] as const
  it('answers the public agent card with 503 DAEMON_UNAVAILABLE while agentd is down', async () => {
    const card = await tcpRequest(port, 'GET', '/.well-known/agent-card.json')
    expect(card.status).toBe(503)
    expect(card.body.error.code).toBe('DAEMON_UNAVAILABLE')
  })

  it.each(matrix)('refuses $name over TCP and the socket', async (row) => {
    // Given a caller with the row's credentials
    const headers: Record<string, string> = 'role' in row ? {authorization: `Bearer ${env.token(row.role)}`} : {...row.headers}
    // When it calls the route on both listeners
    const tcp = await tcpRequest(port, 'GET', row.path, {headers})
    const unix = await rawRequest(env.paths.socket('gateway'), 'GET', row.path, {headers})
    // Then both refuse it with the same envelope
    for (const res of [tcp, unix]) {
      expect(res.status).toBe(row.want)
      expect(res.body.error.code).toBe(row.code)
    }
  })

  it('serves the same API with the operator token on TCP', async () => {
    const res = await tcpRequest(port, 'GET', '/config/agents', {headers: {authorization: `Bearer ${env.token('operator')}`}})
    expect(res.status).toBe(200)
    expect(res.body.agents.map((a: {id: string}) => a.id)).toEqual(['osmoda', 'mobile'])
    expect(res.headers['x-osmoda-daemon']).toBe('gateway')
  })

  it('refuses WebSocket upgrades without a valid operator token', async () => {
    // Given upgrade attempts without, with a wrong, and with an agent token
    const none = await wsConnect(port)
    const wrong = await wsConnect(port, {protocols: ['osmoda.v1', 'osmoda.bearer.osm_op_wrong']})
    const agent = await wsConnect(port, {headers: {authorization: `Bearer ${env.token('agent')}`}})
    const elsewhere = await wsConnect(port, {path: '/events', headers: {authorization: `Bearer ${env.token('operator')}`}})
    // Then none is upgraded
    expect(none).toMatchObject({ok: false, status: 401})
    expect(JSON.parse((none as {body: string}).body).error.code).toBe('UNAUTHENTICATED')
    expect(wrong).toMatchObject({ok: false, status: 401})
    expect(agent).toMatchObject({ok: false, status: 403})
    expect(elsewhere).toMatchObject({ok: false, status: 404})
  })

  it('accepts the bearer subprotocol and selects osmoda.v1', async () => {
    const attempt = await wsConnect(port, {protocols: ['osmoda.v1', `osmoda.bearer.${env.token('operator')}`]})
    expect(attempt.ok).toBe(true)
    if (!attempt.ok) return
    expect(attempt.protocol).toBe('osmoda.v1')
    const f = frames(attempt.ws)
    attempt.ws.send(JSON.stringify({type: 'ping'}))
    expect(await f.next((x) => x.type === 'pong')).toEqual({type: 'pong'})
    attempt.ws.close()
  })
})

describe('gateway WebSocket frames', () => {
  const bad = [
    {name: 'not JSON', data: '{nope', code: 'INVALID_JSON'},
    {name: 'a JSON array', data: '[1,2]', code: 'VALIDATION_FAILED'},
    {name: 'unknown type', data: JSON.stringify({type: 'launch'}), code: 'VALIDATION_FAILED'},
    {name: 'chat without text', data: JSON.stringify({type: 'chat'}), code: 'VALIDATION_FAILED'},
    {name: 'chat with empty text', data: JSON.stringify({type: 'chat', text: ''}), code: 'VALIDATION_FAILED'},
    {name: 'chat with unknown field', data: JSON.stringify({type: 'chat', text: 'hi', root: true}), code: 'VALIDATION_FAILED'},
    {name: 'chat with a bad agent id', data: JSON.stringify({type: 'chat', text: 'hi', agent_id: 'Bad Agent'}), code: 'VALIDATION_FAILED'},
    {name: 'chat text over 100000 chars', data: JSON.stringify({type: 'chat', text: 'x'.repeat(100_001)}), code: 'VALIDATION_FAILED'},
    {name: 'stop with a bad id', data: JSON.stringify({type: 'stop', request_id: '../etc'}), code: 'VALIDATION_FAILED'},
    {name: 'stop of an unknown request', data: JSON.stringify({type: 'stop', request_id: 'req_01JD0000000000000000000000'}), code: 'NOT_FOUND'},
    {name: 'chat to an unknown agent', data: JSON.stringify({type: 'chat', text: 'hi', agent_id: 'ghost'}), code: 'NOT_FOUND'},
    {name: 'chat with no credential', data: JSON.stringify({type: 'chat', text: 'hi'}), code: 'AGENT_DISCONNECTED'},
  ]
  it('answers every malformed frame with an error frame and keeps the socket', async () => {
    // Given an open socket
    const attempt = await wsConnect(port, {headers: {authorization: `Bearer ${env.token('operator')}`}})
    if (!attempt.ok) throw new Error('upgrade refused')
    const f = frames(attempt.ws)
    for (const row of bad) {
      // When a malformed frame arrives
      const before = f.seen.length
      attempt.ws.send(row.data)
      // Then an error frame with the row's code comes back
      const error = await f.next((x) => f.seen.indexOf(x) >= before && x.type === 'error')
      expect({name: row.name, code: error.code}).toEqual({name: row.name, code: row.code})
    }
    attempt.ws.send(Buffer.from([1, 2, 3]), {binary: true})
    expect((await f.next((x) => x.type === 'error' && x.code === 'INVALID_JSON' && f.seen.indexOf(x) >= bad.length)).code).toBe('INVALID_JSON')
    // And the socket still answers
    attempt.ws.send(JSON.stringify({type: 'ping'}))
    await f.next((x) => x.type === 'pong')
    expect(attempt.ws.readyState).toBe(attempt.ws.OPEN)
    attempt.ws.close()
  })

  it('closes the socket with 1009 on an oversized frame', async () => {
    const attempt = await wsConnect(port, {headers: {authorization: `Bearer ${env.token('operator')}`}})
    if (!attempt.ok) throw new Error('upgrade refused')
    const closed = new Promise<number>((resolve) => attempt.ws.once('close', (code) => resolve(code)))
    attempt.ws.send(JSON.stringify({type: 'chat', text: 'x'.repeat(600 * 1024)}))
    expect(await closed).toBe(1009)
    // And the gateway keeps serving
    expect((await tcpRequest(port, 'GET', '/health')).status).toBe(200)
  })
})

describe('gateway reload', () => {
  it('reloads on SIGHUP without dropping WebSockets; new requests see the new config', async () => {
    // Given three open sockets
    const sockets = await Promise.all([1, 2, 3].map(() => wsConnect(port, {headers: {authorization: `Bearer ${env.token('operator')}`}})))
    const open = sockets.map((s) => {
      if (!s.ok) throw new Error('upgrade refused')
      return {ws: s.ws, f: frames(s.ws), closed: false}
    })
    for (const s of open) s.ws.once('close', () => (s.closed = true))
    // And agents.json edited by hand: mobile disabled
    const file = join(env.paths.stateDir, 'gateway', 'agents.json')
    const doc = JSON.parse(readFileSync(file, 'utf8'))
    doc.agents[1].enabled = false
    writeFileSync(file, JSON.stringify(doc))
    // When SIGHUP arrives
    gateway.child.kill('SIGHUP')
    await expect.poll(async () => (await op(env, 'GET', '/config/agents')).body.agents[1].enabled, {timeout: 5000}).toBe(false)
    // Then every socket is still open and answers
    for (const s of open) {
      s.ws.send(JSON.stringify({type: 'ping'}))
      await s.f.next((x) => x.type === 'pong')
      expect(s.closed).toBe(false)
    }
    // And a new chat on the telegram agent sees the new config: mobile is disabled now
    open[0]?.ws.send(JSON.stringify({type: 'chat', text: 'hi', agent_id: 'mobile'}))
    expect((await open[0]!.f.next((x) => x.type === 'error')).code).toBe('AGENT_DISCONNECTED')
    // And POST /config/reload answers like /reload
    const res = await op(env, 'POST', '/config/reload')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({reloaded: true, changed: []})
    for (const s of open) s.ws.close()
  })
})
