import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {spawn} from 'node:child_process'
import {createServer} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {openLedger} from '../src/lib/ledger/ledger.js'
import {BIN, testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'

let env: TestEnv
let agentd: DaemonProcess

beforeAll(async () => {
  env = await testEnv()
  agentd = await env.start('agentd')
})

afterAll(async () => {
  if (agentd?.child.exitCode === null) await agentd.stop()
  await env?.cleanup()
})

const HASH = 'b'.repeat(64)

describe('agentd through the typed client', () => {
  it('reports health with host facts and the ledger', async () => {
    const health = await env.client('agentd', agentdApi, 'agent').health()
    expect(health).toMatchObject({status: 'ok', daemon: 'agentd', pid: agentd.child.pid})
    expect(health.cpu_count).toBeGreaterThan(0)
    expect(health.memory_total).toBeGreaterThan(health.memory_available)
    expect(health.disks.length).toBeGreaterThan(0)
    expect(health.ledger.size).toBeGreaterThanOrEqual(1)
  })

  it('records a tool call as tool.called with the actor derived from the token', async () => {
    // Given an agent client with its id and correlation headers
    const client = env.client('agentd', agentdApi, 'agent', {'x-osmoda-agent-id': 'ops', 'x-osmoda-session-id': 'ses_1'})
    // When it records a call
    const {seq} = await client.toolCalls({tool: 'system_query', toolset: 'agentd', args_sha256: HASH, outcome: 'error', error_code: 'VALIDATION_FAILED', duration_ms: 2.5})
    // Then the event carries the derived actor and the payload fields
    const {events} = await client.eventsLog({type: 'tool.called', limit: 1})
    expect(events[0]).toMatchObject({seq, type: 'tool.called', actor: 'agent:ops'})
    expect(events[0]?.payload).toMatchObject({tool: 'system_query', outcome: 'error', error_code: 'VALIDATION_FAILED', agent_id: 'ops', session_id: 'ses_1', args_sha256: HASH})
  })

  it('filters and pages the event log', async () => {
    const client = env.client('agentd', agentdApi)
    for (let i = 0; i < 5; i++) await client.toolCalls({tool: 'event_log', toolset: 'agentd', args_sha256: HASH, outcome: 'ok', duration_ms: i})
    const first = await client.eventsLog({type: 'tool.*', limit: 2})
    expect(first.events).toHaveLength(2)
    expect(first.events[0]!.seq).toBeGreaterThan(first.events[1]!.seq)
    expect(first.events.every((e) => e.type.startsWith('tool.'))).toBe(true)
    const second = await client.eventsLog({type: 'tool.*', limit: 2, before: Number(first.next_cursor)})
    expect(second.events[0]!.seq).toBeLessThan(first.events[1]!.seq)
    const asc = await client.eventsLog({after: 0, limit: 3})
    expect(asc.events.map((e) => e.seq)).toEqual([1, 2, 3])
    const byActor = await client.eventsLog({actor: 'agentd', limit: 10})
    expect(byActor.events.every((e) => e.actor === 'agentd')).toBe(true)
    expect(byActor.events.some((e) => e.type === 'daemon.started')).toBe(true)
  })

  it('follows new events as NDJSON and resumes after a seq', async () => {
    const client = env.client('agentd', agentdApi)
    const head = (await client.ledgerStatus()).size
    const controller = new AbortController()
    const received: number[] = []
    const reading = (async () => {
      for await (const item of client.follow('eventsLog', {after: head - 1}, {signal: controller.signal})) {
        const event = item as {seq?: number}
        if (event.seq) received.push(event.seq)
        if (received.length === 3) controller.abort()
      }
    })()
    await client.toolCalls({tool: 'system_health', toolset: 'agentd', args_sha256: HASH, outcome: 'ok', duration_ms: 1})
    await client.toolCalls({tool: 'system_health', toolset: 'agentd', args_sha256: HASH, outcome: 'ok', duration_ms: 1})
    await reading
    expect(received).toEqual([head, head + 1, head + 2])
  })

  it('answers system query and discovery, finding a port this test opens', async () => {
    const server = createServer().listen(0, '127.0.0.1')
    await new Promise((r) => server.once('listening', r))
    const port = (server.address() as {port: number}).port
    try {
      const client = env.client('agentd', agentdApi, 'agent')
      const hostname = await client.systemQuery({query: 'hostname'})
      expect(hostname.result).toMatchObject({hostname: expect.any(String)})
      const ports = await client.systemQuery({query: 'ports'})
      expect(ports.result as {port: number}[]).toContainEqual(expect.objectContaining({port, pid: process.pid}))
      const found = await client.systemDiscover()
      expect(found.systemd).toBe('unavailable')
      expect(found.found).toContainEqual(expect.objectContaining({port, pid: process.pid}))
    } finally {
      server.close()
    }
  })

  it('signs checkpoints and serves Merkle proofs', async () => {
    const client = env.client('agentd', agentdApi)
    const checkpoint = await client.ledgerCheckpointNow()
    expect(checkpoint.note.startsWith(`${checkpoint.origin}\n${checkpoint.size}\n${checkpoint.root_hash}\n\n— `)).toBe(true)
    expect((await client.ledgerCheckpoint()).size).toBe(checkpoint.size)
    expect((await client.ledgerCheckpoint({size: checkpoint.size})).root_hash).toBe(checkpoint.root_hash)
    const list = await client.ledgerCheckpoints({limit: 10})
    expect(list.checkpoints[0]?.size).toBe(checkpoint.size)
    const inclusion = await client.ledgerProofInclusion({seq: 1, size: checkpoint.size})
    expect(inclusion).toMatchObject({leaf_index: 0, tree_size: checkpoint.size})
    const consistency = await client.ledgerProofConsistency({old: 1, new: checkpoint.size})
    expect(consistency.old_size).toBe(1)
    const status = await client.ledgerStatus()
    expect(status.latest_checkpoint?.size).toBe(checkpoint.size)
  })

  it('verifies on request and records ledger.verified', async () => {
    const client = env.client('agentd', agentdApi)
    expect(await client.ledgerVerify({})).toEqual({state: 'running'})
    let verified: unknown
    for (let i = 0; i < 50 && !verified; i++) {
      verified = (await client.eventsLog({type: 'ledger.verified', limit: 1})).events[0]
      if (!verified) await new Promise((r) => setTimeout(r, 100))
    }
    expect(verified).toMatchObject({payload: {ok: true, first_bad_seq: null, bad_count: 0}})
  })

  it('reloads config and reports the changed keys', async () => {
    const client = env.client('agentd', agentdApi)
    expect(await client.reload()).toEqual({reloaded: true, changed: []})
    writeFileSync(join(env.paths.configDir, 'agentd.json'), JSON.stringify({ledger: {checkpointEverySecs: 5}}))
    expect(await client.reload()).toEqual({reloaded: true, changed: ['ledger']})
  })
})

describe('agentd through the CLI', () => {
  const run = async (args: string[]) => {
    const result = await env.cli([...args, '--json'])
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.json).toMatchObject({status: 0, warnings: []})
    return result.json.result
  }

  it('health, status, events, system, ledger and reload answer --json', async () => {
    expect(await run(['health'])).toMatchObject({daemon: 'agentd', status: 'ok'})
    expect((await run(['status'])).daemons).toContainEqual(expect.objectContaining({daemon: 'agentd', status: 'ok'}))
    expect((await run(['events', '--limit', '3'])).events).toHaveLength(3)
    expect((await run(['events', '--type', 'daemon.started'])).events[0]).toMatchObject({actor: 'agentd'})
    expect(await run(['system', 'query', 'uptime'])).toMatchObject({query: 'uptime', result: {uptime_secs: expect.any(Number)}})
    expect(await run(['system', 'discover'])).toMatchObject({systemd: 'unavailable'})
    const checkpoint = await run(['ledger', 'checkpoint', '--now', '--out', join(env.base, 'cp.note')])
    expect(existsSync(join(env.base, 'cp.note'))).toBe(true)
    expect(await run(['ledger', 'status'])).toMatchObject({latest_checkpoint: {size: checkpoint.size}})
    expect(await run(['ledger', 'checkpoint'])).toMatchObject({size: checkpoint.size, note: checkpoint.note, file: null})
    expect((await run(['ledger', 'checkpoints', '--limit', '1'])).checkpoints[0]).toMatchObject({size: checkpoint.size})
    expect(await run(['ledger', 'proof', 'inclusion', '--seq', '1', '--size', String(checkpoint.size)])).toMatchObject({leaf_index: 0})
    expect(await run(['ledger', 'proof', 'consistency', '--old', '1', '--new', String(checkpoint.size)])).toMatchObject({old_size: 1})
    expect(await run(['ledger', 'verify'])).toEqual({state: 'running'})
    expect(await run(['reload', 'agentd'])).toMatchObject({daemon: 'agentd', reloaded: true})
    expect(await run(['verify-ledger', '--checkpoint', join(env.base, 'cp.note')])).toMatchObject({ok: true, bad_count: 0})
  })

  it('maps errors to exit codes and the JSON envelope', async () => {
    const bad = await env.cli(['events', '--limit', '0', '--json'])
    expect(bad.exitCode).toBe(2)
    expect(bad.json).toMatchObject({status: 2, error: {code: 'VALIDATION_FAILED'}})
    const human = await env.cli(['ledger', 'checkpoint', '--size', '999999'])
    expect(human.exitCode).toBe(1)
    expect(human.stderr).toMatch(/no checkpoint of size 999999/)
    const forbidden = await env.cli(['reload', 'agentd', '--json'], {env: {OSMODA_TOKEN: env.token('agent')}})
    expect(forbidden.exitCode).toBe(4)
    expect(forbidden.json.error.code).toBe('FORBIDDEN')
  })

  it('follows events with --follow --json as NDJSON until interrupted', async () => {
    const follower = spawn(process.execPath, [BIN, 'events', '--follow', '--json'], {env: env.env, stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    follower.stdout.on('data', (d) => (out += d))
    await new Promise((r) => setTimeout(r, 1500))
    await env.client('agentd', agentdApi).toolCalls({tool: 'event_log', toolset: 'agentd', args_sha256: HASH, outcome: 'ok', duration_ms: 3})
    for (let i = 0; i < 40 && !out.includes('\n'); i++) await new Promise((r) => setTimeout(r, 100))
    follower.kill('SIGINT')
    const code = await new Promise((r) => follower.once('exit', (c) => r(c)))
    const lines = out.trim().split('\n').map((l) => JSON.parse(l))
    expect(lines[0]).toMatchObject({type: 'tool.called', payload: {duration_ms: 3}})
    expect(code).toBe(130)
  })

  it('reports an unreachable daemon with exit 3', async () => {
    const res = await env.cli(['health', '--json'], {env: {OSMODA_RUN_DIR: join(env.base, 'nowhere')}})
    expect(res.exitCode).toBe(3)
    expect(res.json.error).toMatchObject({code: 'DAEMON_UNAVAILABLE', hint: expect.stringContaining('osmoda-agentd')})
  })
})

describe('agentd shutdown', () => {
  it('drains on SIGTERM, exits 0, removes its socket and records daemon.stopped', async () => {
    await agentd.stopClean()
    const ledger = openLedger(env.paths.ledgerDb)
    try {
      const [last] = ledger.query({type: 'daemon.stopped', limit: 1, order: 'desc'})
      expect(last).toMatchObject({actor: 'agentd', payload: {daemon: 'agentd', reason: 'signal'}})
    } finally {
      ledger.close()
    }
  })
})
