import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ROOT, testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'
import {gatewayPort, op, readSse, scriptedRuntime, sseEvents, tcpRequest} from './helpers/gateway-kit.js'

// Wedge detection with real runs of the scripted runtime and a real agentd behind the probe's
// `osmoda mcp --check`; thresholds shrunk through the gateway's config keys.
let env: TestEnv
let agentd: DaemonProcess
let gateway: DaemonProcess
let port: number
let runtime: ReturnType<typeof scriptedRuntime>

beforeAll(async () => {
  env = await testEnv()
  runtime = scriptedRuntime(env, ROOT)
  agentd = await env.start('agentd')
  gateway = await env.start('gateway', {...runtime.env, OSMODA_GATEWAY_WEDGE_AFTER_MS: '800', OSMODA_GATEWAY_WEDGE_CHECK_SECS: '1'})
  port = await gatewayPort(env)
  await op(env, 'POST', '/config/credentials', {provider: 'anthropic', type: 'api_key', secret: 'sk-ant-api03-' + 'W'.repeat(40)})
}, 90_000)

afterAll(async () => {
  await gateway?.stopClean()
  await agentd?.stopClean()
  await env?.cleanup()
})

describe('wedge detection and recovery', () => {
  it('keeps a silent run with live heartbeats alive (dual signal)', async () => {
    // Given a run that never writes a frame
    runtime.scenario('hang')
    const res = await op(env, 'POST', '/chat', {text: 'long tool call', session_key: 'wedge:heartbeat'})
    // When the tool plane keeps posting heartbeats with a tool in flight
    for (let i = 0; i < 12; i++) {
      expect((await op(env, 'POST', '/agents/osmoda/heartbeat', {request_id: res.body.request_id, in_flight_tools: 1}, 'agent')).status).toBe(200)
      await new Promise((r) => setTimeout(r, 200))
    }
    // Then the agent is not wedged and the request still runs
    const agents = await op(env, 'GET', '/agents')
    expect(agents.body.agents[0]).toMatchObject({id: 'osmoda', agent_wedged: false, active_request_ids: [res.body.request_id], last_heartbeat_at: expect.any(String)})
    expect((await op(env, 'GET', `/requests/${res.body.request_id}`)).body.status).not.toMatch(/failed|completed/)
    await op(env, 'POST', `/requests/${res.body.request_id}/stop`)
  })

  it('flags a run silent on both signals as wedged, stops it, quarantines the session and heals by restart', async () => {
    // Given a run that never writes a frame and no heartbeats
    runtime.scenario('hang')
    const res = await op(env, 'POST', '/chat', {text: 'stuck', session_key: 'wedge:silent'})
    // When both signals go stale past wedgeAfterMs
    await expect.poll(async () => (await op(env, 'GET', `/requests/${res.body.request_id}`)).body.failure?.code, {timeout: 15_000}).toBe('GATEWAY_WEDGED')
    // Then the stream tells the story: wedged, a restart attempt (probe reaches agentd), healed via restart
    const sse = await readSse(port, '/events?cursor=0&filter=agent', {authorization: `Bearer ${env.token('operator')}`}, (t) => sseEvents(t).some((e) => e.type === 'agent.healed'))
    const types = sseEvents(sse.text).map((e) => e.type)
    expect(types).toEqual(expect.arrayContaining(['agent.wedged', 'agent.restart_attempted', 'agent.healed']))
    expect(sseEvents(sse.text).find((e) => e.type === 'agent.healed').data.alive_via).toBe('restart')
    const agents = await op(env, 'GET', '/agents')
    expect(agents.body.agents[0]).toMatchObject({agent_wedged: false, auto_restart_status: 'ready', alive_via: 'restart'})
    // And the wedged session's runtime session is quarantined on disk
    await new Promise((r) => setTimeout(r, 400))
    const sessions = JSON.parse(readFileSync(join(env.paths.stateDir, 'gateway', 'sessions.json'), 'utf8'))
    expect(sessions.sessions.find((s: {key: string}) => s.key === 'wedge:silent')).toMatchObject({quarantined: true, runtime_session_id: null})
  })

  it('relays agentd ledger events (category ledger) and serves the public agent card', async () => {
    // Given an event written to the ledger by agentd after the gateway started
    const created = await env.cli(['incident', 'create', '--name', 'disk filling up', '--json'])
    expect(created.exitCode).toBe(0)
    // Then it arrives on the gateway stream as a ledger event
    const sse = await readSse(port, '/events?cursor=0&filter=ledger', {authorization: `Bearer ${env.token('operator')}`}, (t) => sseEvents(t).some((e) => e.type.startsWith('incident.')))
    const relayed = sseEvents(sse.text).find((e) => e.type.startsWith('incident.'))
    expect(relayed).toMatchObject({category: 'ledger', data: {ledger_seq: expect.any(Number), actor: expect.stringMatching(/^operator:/)}})
    // And nothing the gateway wrote itself comes back as a ledger event
    expect(sseEvents(sse.text).filter((e) => e.type.startsWith('agent.') || e.type.startsWith('credential.'))).toEqual([])
    // And the card is public
    const card = await tcpRequest(port, 'GET', '/.well-known/agent-card.json')
    expect(card.status).toBe(200)
    expect(card.body).toMatchObject({name: expect.any(String), signatures: expect.any(Array)})
  })

  it('completes a manual restart when the probe passes', async () => {
    const res = await op(env, 'POST', '/agents/osmoda/restart')
    expect(res.status).toBe(202)
    await expect.poll(async () => (await op(env, 'GET', `/requests/${res.body.request_id}`)).body.status, {timeout: 30_000}).toBe('completed')
  })
})
