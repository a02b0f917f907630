import {createHmac} from 'node:crypto'
import {existsSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {routinesApi} from '../src/daemons/routines/api.js'
import {openLedger} from '../src/lib/ledger/ledger.js'
import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StdioClientTransport} from '@modelcontextprotocol/sdk/client/stdio.js'
import {BIN, testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'
import {badInputTable, socketSender, type BadInputCase} from './helpers/bad-input.js'

let env: TestEnv
let agentd: DaemonProcess
let routinesd: DaemonProcess

beforeAll(async () => {
  env = await testEnv()
  agentd = await env.start('agentd')
  routinesd = await env.start('routines')
}, 60_000)

afterAll(async () => {
  await routinesd?.stopClean()
  await agentd?.stopClean()
  await env?.cleanup()
})

const operator = () => env.client('routines', routinesApi)
const agent = () => env.client('routines', routinesApi, 'agent', {'x-osmoda-agent-id': 'ops'})

function append(type: string, payload: Record<string, unknown>, actor = 'watch') {
  const ledger = openLedger(env.paths.ledgerDb)
  try {
    return ledger.append({type, actor, payload})
  } finally {
    ledger.close()
  }
}

async function until<T>(read: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('routines daemon with agentd', () => {
  it('installs the six defaults, and each one runs for real and records what it found', async () => {
    // Given a fresh routines daemon
    const client = operator()
    const list = await client.routineList({})
    expect(list.routines.map((r) => r.id)).toEqual(['default-health', 'default-services', 'default-logscan', 'default-memory', 'default-generation', 'default-network'])
    expect(list.routines.every((r) => r.enabled && r.next_run_at !== null)).toBe(true)
    // When each is triggered and awaited
    const out: Record<string, Record<string, unknown>> = {}
    for (const {id} of list.routines) {
      const run = await client.routineTrigger({id, wait: true})
      expect(run, id).toMatchObject({status: 'ok', trigger: 'manual', routine_id: id})
      out[id] = JSON.parse(run.output as string) as Record<string, unknown>
    }
    // Then each recorded real findings from its source
    expect(out['default-health']).toMatchObject({hostname: expect.any(String), memory_pct: expect.any(Number), findings: expect.any(Array)})
    expect(out['default-services']).toMatchObject({units: [{unit: 'osmoda-agentd'}, {unit: 'osmoda-gateway'}, {unit: 'sshd'}]})
    if (out['default-services']?.systemd === 'unavailable') expect(JSON.stringify(out['default-services'])).toContain('systemd is not PID 1')
    expect(['available', 'unavailable']).toContain(out['default-logscan']?.journal)
    expect(out['default-memory']).toMatchObject({memory_id: expect.stringMatching(/^mem_/), events: expect.any(Number)})
    expect(out['default-memory']?.events as number).toBeGreaterThan(0)
    const memory = await env.client('agentd', agentdApi).memoryRecall({query: 'ledger events', max_results: 5})
    expect(memory.memories.map((m) => m.id)).toContain(out['default-memory']?.memory_id)
    expect(out['default-generation']).toHaveProperty('system_state')
    expect(out['default-network']).toMatchObject({source: 'recorded_now', listening: expect.any(Array)})
    // And a second network run compares against the recorded baseline
    const again = await client.routineTrigger({id: 'default-network', wait: true})
    expect(JSON.parse(again.output as string)).toMatchObject({source: 'baseline', new_ports: [], missing_ports: []})
    const history = await client.routineHistory({routine_id: 'default-network'})
    expect(history.runs).toHaveLength(2)
  }, 90_000)

  it('fires an event routine within 1 s of a matching ledger event, and not for others', async () => {
    const client = operator()
    const routine = await client.routineAdd({name: 'on-rollback', trigger: {type: 'event', event_type: 'switch.*', match: {payload: {host: 'web1'}}}, action: {type: 'command', command: '/bin/true'}})
    append('switch.rolled_back', {host: 'web2'})
    const event = append('switch.rolled_back', {host: 'web1'})
    const run = await until(async () => (await client.routineHistory({routine_id: routine.id})).runs.find((r) => r.event_seq === event.seq))
    expect(run.trigger).toBe('event')
    expect(Date.parse(run.started_at) - Date.parse(event.ts)).toBeLessThan(1000)
    expect((await client.routineHistory({routine_id: routine.id})).runs).toHaveLength(1)
  })

  it('keeps history, last-run state and the event cursor across a restart', async () => {
    const before = await operator().routineGet({id: 'default-health'})
    expect(before.run_count).toBeGreaterThanOrEqual(1)
    await routinesd.stopClean()
    routinesd = await env.start('routines')
    const after = await operator().routineGet({id: 'default-health'})
    expect(after).toMatchObject({run_count: before.run_count, last_status: before.last_status, last_run_at: before.last_run_at})
    expect(after.runs.map((r) => r.id)).toEqual(before.runs.map((r) => r.id))
  }, 30_000)

  it('resumes the ledger stream after its last seq: an event while routines was down still fires', async () => {
    const client = operator()
    const routine = await client.routineAdd({name: 'on-deploy', trigger: {type: 'event', event_type: 'app.deployed', debounce_secs: 0}, action: {type: 'command', command: '/bin/true'}})
    await routinesd.stopClean()
    const event = append('app.deployed', {name: 'blog'})
    routinesd = await env.start('routines')
    const run = await until(async () => (await operator().routineHistory({routine_id: routine.id})).runs.find((r) => r.event_seq === event.seq))
    expect(run.status).not.toBe('skipped')
  }, 30_000)

  it('reconnects to the ledger stream when agentd restarts', async () => {
    const client = operator()
    const routine = await client.routineAdd({name: 'on-incident', trigger: {type: 'event', event_type: 'incident.opened', debounce_secs: 0}, action: {type: 'command', command: '/bin/true'}})
    await agentd.stopClean()
    agentd = await env.start('agentd')
    const event = append('incident.opened', {name: 'x'})
    const run = await until(async () => (await client.routineHistory({routine_id: routine.id})).runs.find((r) => r.event_seq === event.seq), 8000)
    expect(run.trigger).toBe('event')
  }, 30_000)

  it('runs a webhook-triggered routine only with a valid HMAC signature, and returns the secret once', async () => {
    const client = operator()
    const routine = await client.routineAdd({name: 'hooked', trigger: {type: 'webhook'}, action: {type: 'command', command: '/bin/echo', args: ['hi']}})
    expect(routine.webhook_secret).toMatch(/^[0-9a-f]{64}$/)
    expect(JSON.stringify(await client.routineGet({id: routine.id}))).not.toContain(routine.webhook_secret)
    const body = Buffer.from('{"ref":"main"}')
    const good = `sha256=${createHmac('sha256', routine.webhook_secret as string).update(body).digest('hex')}`
    await expect(client.routineWebhook({id: routine.id, body_base64: body.toString('base64'), signature: `sha256=${'0'.repeat(64)}`})).rejects.toMatchObject({code: 'UNAUTHENTICATED'})
    const {run_id} = await client.routineWebhook({id: routine.id, body_base64: body.toString('base64'), signature: good})
    const run = await until(async () => (await client.routineHistory({routine_id: routine.id})).runs.find((r) => r.id === run_id && r.status !== 'running'))
    expect(run).toMatchObject({trigger: 'webhook', status: 'ok'})
    expect(JSON.parse(run.output)).toMatchObject({stdout: 'hi\n', exit_code: 0})
    await expect(client.routineWebhook({id: 'default-health', body_base64: '', signature: good})).rejects.toMatchObject({code: 'CONFLICT'})
  })

  it('gates an agent adding a command routine through agentd, and runs it once approved', async () => {
    const input = {name: 'agent-cmd', trigger: {type: 'interval' as const, seconds: 3600}, action: {type: 'command' as const, command: '/bin/true'}}
    const required = await agent().routineAdd(input).catch((error: unknown) => error as {code: string; details: {approval_id: string; operation: string}})
    expect(required).toMatchObject({code: 'APPROVAL_REQUIRED', details: {operation: 'routine_add', approval_id: expect.stringMatching(/^apr_/)}})
    const approvalId = (required as {details: {approval_id: string}}).details.approval_id
    expect((await operator().routineList({})).routines.some((r) => r.name === 'agent-cmd')).toBe(false)
    await env.client('agentd', agentdApi).approvalApprove({id: approvalId})
    const added = await agent().routineAdd({...input, approval_id: approvalId})
    expect(added.name).toBe('agent-cmd')
    // A built-in action needs no approval; disabling is always gated
    const health = await agent().routineAdd({name: 'agent-health', trigger: {type: 'interval', seconds: 600}, action: {type: 'health_check'}})
    await expect(agent().routineUpdate({id: health.id, enabled: false})).rejects.toMatchObject({code: 'APPROVAL_REQUIRED'})
    await expect(agent().routineRemove({id: health.id})).rejects.toMatchObject({code: 'APPROVAL_REQUIRED'})
    // Asking up front with approval_request binds to the same digest the routines gate computes
    const upFront = await env.client('agentd', agentdApi, 'agent', {'x-osmoda-agent-id': 'ops'}).approvalRequest({reason: 'nightly report', tool: 'routine_add', arguments: {name: 'agent-report', trigger: {type: 'cron', expression: '0 3 * * *'}, action: {type: 'command', command: '/bin/true'}}})
    await env.client('agentd', agentdApi).approvalApprove({id: upFront.id})
    const report = await agent().routineAdd({name: 'agent-report', trigger: {type: 'cron', expression: '0 3 * * *'}, action: {type: 'command', command: '/bin/true'}, approval_id: upFront.id})
    expect(report.trigger).toEqual({type: 'cron', expression: '0 3 * * *', timezone: 'UTC'})
    // A used approval does not work twice
    await expect(agent().routineAdd({name: 'agent-report-2', trigger: {type: 'cron', expression: '0 3 * * *'}, action: {type: 'command', command: '/bin/true'}, approval_id: upFront.id})).rejects.toMatchObject({code: 'APPROVAL_INVALID'})
    const [event] = openLedgerQuery('routine.added', 'agent:ops')
    expect(event).toMatchObject({payload: {name: 'agent-report', action_type: 'command', trigger: {type: 'cron'}}})
  })
})

function openLedgerQuery(type: string, actor: string) {
  const ledger = openLedger(env.paths.ledgerDb)
  try {
    return ledger.query({type, actor, limit: 1, order: 'desc'})
  } finally {
    ledger.close()
  }
}

describe('routines bad input', () => {
  const cases: BadInputCase[] = [
    {name: 'bad cron minute', method: 'POST', path: '/routine/add', body: {name: 'a', trigger: {type: 'cron', expression: '61 * * * *'}, action: {type: 'health_check'}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'six-field cron', method: 'POST', path: '/routine/add', body: {name: 'a', trigger: {type: 'cron', expression: '0 * * * * *'}, action: {type: 'health_check'}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'cron nickname', method: 'POST', path: '/routine/add', body: {name: 'a', trigger: {type: 'cron', expression: '@hourly'}, action: {type: 'health_check'}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'unknown time zone', method: 'POST', path: '/routine/add', body: {name: 'a', trigger: {type: 'cron', expression: '0 * * * *', timezone: 'Mars/Base'}, action: {type: 'health_check'}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'unknown trigger type', method: 'POST', path: '/routine/add', body: {name: 'a', trigger: {type: 'sometimes'}, action: {type: 'health_check'}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'unknown action type', method: 'POST', path: '/routine/add', body: {name: 'a', trigger: {type: 'interval', seconds: 60}, action: {type: 'shell'}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'interval under 10 s', method: 'POST', path: '/routine/add', body: {name: 'a', trigger: {type: 'interval', seconds: 9}, action: {type: 'health_check'}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'negative interval', method: 'POST', path: '/routine/add', body: {name: 'a', trigger: {type: 'interval', seconds: -60}, action: {type: 'health_check'}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'huge interval', method: 'POST', path: '/routine/add', body: {name: 'a', trigger: {type: 'interval', seconds: 1e12}, action: {type: 'health_check'}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'fractional interval', method: 'POST', path: '/routine/add', body: {name: 'a', trigger: {type: 'interval', seconds: 60.5}, action: {type: 'health_check'}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'negative debounce', method: 'POST', path: '/routine/add', body: {name: 'a', trigger: {type: 'event', event_type: 'x.y', debounce_secs: -1}, action: {type: 'health_check'}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'bad event type', method: 'POST', path: '/routine/add', body: {name: 'a', trigger: {type: 'event', event_type: 'Switch'}, action: {type: 'health_check'}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'relative executable', method: 'POST', path: '/routine/add', body: {name: 'a', trigger: {type: 'interval', seconds: 60}, action: {type: 'command', command: 'ls'}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'dot-relative executable', method: 'POST', path: '/routine/add', body: {name: 'a', trigger: {type: 'interval', seconds: 60}, action: {type: 'command', command: './run.sh'}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'missing executable', method: 'POST', path: '/routine/add', body: {name: 'a', trigger: {type: 'interval', seconds: 60}, action: {type: 'command', command: '/no/such/binary'}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'negative timeout', method: 'POST', path: '/routine/add', body: {name: 'a', trigger: {type: 'interval', seconds: 60}, action: {type: 'command', command: '/bin/true', timeout_secs: -5}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'timeout over maxSecs', method: 'POST', path: '/routine/add', body: {name: 'a', trigger: {type: 'interval', seconds: 60}, action: {type: 'command', command: '/bin/true', timeout_secs: 3600}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'huge timeout', method: 'POST', path: '/routine/add', body: {name: 'a', trigger: {type: 'interval', seconds: 60}, action: {type: 'command', command: '/bin/true', timeout_secs: 1e15}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'args not strings', method: 'POST', path: '/routine/add', body: {name: 'a', trigger: {type: 'interval', seconds: 60}, action: {type: 'command', command: '/bin/true', args: [1]}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'webhook ftp url', method: 'POST', path: '/routine/add', body: {name: 'a', trigger: {type: 'interval', seconds: 60}, action: {type: 'webhook', url: 'ftp://example.com/x'}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'agent_prompt without gateway', method: 'POST', path: '/routine/add', body: {name: 'a', trigger: {type: 'interval', seconds: 60}, action: {type: 'agent_prompt', text: 'hi'}}, wantStatus: 503, wantCode: 'FEATURE_DISABLED'},
    {name: 'unknown field', method: 'POST', path: '/routine/add', body: {name: 'a', trigger: {type: 'interval', seconds: 60}, action: {type: 'health_check'}, owner: 'x'}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'empty name', method: 'POST', path: '/routine/add', body: {name: '', trigger: {type: 'interval', seconds: 60}, action: {type: 'health_check'}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'over-long name', method: 'POST', path: '/routine/add', body: {name: 'n'.repeat(65), trigger: {type: 'interval', seconds: 60}, action: {type: 'health_check'}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'name taken', method: 'POST', path: '/routine/add', body: {name: 'Health check', trigger: {type: 'interval', seconds: 60}, action: {type: 'health_check'}}, wantStatus: 409, wantCode: 'ALREADY_EXISTS'},
    {name: 'malformed JSON', method: 'POST', path: '/routine/add', body: '{"name":', wantStatus: 400, wantCode: 'INVALID_JSON'},
    {name: 'list enabled not boolean', method: 'GET', path: '/routine/list?enabled=maybe', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'history limit 0', method: 'GET', path: '/routine/history?limit=0', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'history limit negative', method: 'GET', path: '/routine/history?limit=-3', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'history bad status', method: 'GET', path: '/routine/history?status=great', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'history bad cursor', method: 'GET', path: '/routine/history?cursor=../../x', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'get unknown id', method: 'GET', path: '/routine/rtn_01JAAAAAAAAAAAAAAAAAAAAAAA', wantStatus: 404, wantCode: 'NOT_FOUND'},
    {name: 'get bad id', method: 'GET', path: '/routine/..%2Fetc', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'patch bad cron', method: 'PATCH', path: '/routine/default-health', body: {trigger: {type: 'cron', expression: '* * *'}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'patch unknown field', method: 'PATCH', path: '/routine/default-health', body: {colour: 'red'}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'patch unknown id', method: 'PATCH', path: '/routine/rtn_01JAAAAAAAAAAAAAAAAAAAAAAA', body: {enabled: true}, wantStatus: 404, wantCode: 'NOT_FOUND'},
    {name: 'delete unknown id', method: 'DELETE', path: '/routine/rtn_01JAAAAAAAAAAAAAAAAAAAAAAA', wantStatus: 404, wantCode: 'NOT_FOUND'},
    {name: 'trigger unknown id', method: 'POST', path: '/routine/rtn_01JAAAAAAAAAAAAAAAAAAAAAAA/trigger', body: {}, wantStatus: 404, wantCode: 'NOT_FOUND'},
    {name: 'trigger wait not boolean', method: 'POST', path: '/routine/default-health/trigger', body: {wait: 'yes'}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'webhook bad signature format', method: 'POST', path: '/routine/default-health/webhook', body: {body_base64: '', signature: 'md5=abc'}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'webhook as agent', method: 'POST', path: '/routine/default-health/webhook', body: {body_base64: '', signature: `sha256=${'0'.repeat(64)}`}, role: 'agent', wantStatus: 403, wantCode: 'FORBIDDEN'},
    {name: 'reload as agent', method: 'POST', path: '/reload', body: {}, role: 'agent', wantStatus: 403, wantCode: 'FORBIDDEN'},
  ]

  badInputTable('the envelope, no routine added or removed', cases, {
    send: socketSender({socket: () => env.paths.socket('routines'), token: (role) => env.token(role)}),
    // Nothing was written and the daemon still serves
    state: async () => ({routines: (await operator().routineList({})).routines.length}),
  })
})

describe('osmoda routine CLI', () => {
  it('adds, lists, disables, triggers and shows history with --json and clear errors', async () => {
    const added = await env.cli(['routine', 'add', '--name', 'cli-echo', '--every', '3600', '--action', '{"type":"command","command":"/bin/echo","args":["from-cli"]}', '--json'])
    expect(added).toMatchObject({exitCode: 0, json: {status: 0, result: {name: 'cli-echo', trigger: {type: 'interval', seconds: 3600}}}})
    const id = (added.json as {result: {id: string}}).result.id
    const ran = await env.cli(['routine', 'trigger', id, '--json'])
    expect(ran).toMatchObject({exitCode: 0, json: {result: {status: 'ok', trigger: 'manual'}}})
    expect(JSON.parse((ran.json as {result: {output: string}}).result.output)).toMatchObject({stdout: 'from-cli\n'})
    const disabled = await env.cli(['routine', 'update', id, '--disable', '--json'])
    expect(disabled).toMatchObject({exitCode: 0, json: {result: {enabled: false, next_run_at: null}}})
    const listed = await env.cli(['routine', 'list', '--disabled', '--json'])
    expect((listed.json as {result: {routines: {id: string}[]}}).result.routines.map((r) => r.id)).toEqual([id])
    const history = await env.cli(['routine', 'history', '--routine', id, '--json'])
    expect((history.json as {result: {runs: {status: string}[]}}).result.runs.map((r) => r.status)).toEqual(['ok'])
    const table = await env.cli(['routine', 'show', id])
    expect(table.stdout).toContain('cli-echo')
    // Bad input: no trigger → usage (2); bad cron → the daemon's VALIDATION_FAILED (usage, 2); remove without --yes and no TTY → usage
    expect((await env.cli(['routine', 'add', '--name', 'x', '--action', '{"type":"health_check"}'])).exitCode).toBe(2)
    const badCron = await env.cli(['routine', 'add', '--name', 'x', '--cron', '0 25 * * *', '--action', '{"type":"health_check"}', '--json'])
    expect(badCron).toMatchObject({exitCode: 2, json: {error: {code: 'VALIDATION_FAILED'}}})
    expect((await env.cli(['routine', 'remove', id])).exitCode).toBe(2)
    expect(await env.cli(['routine', 'remove', id, '--yes', '--json'])).toMatchObject({exitCode: 0, json: {result: {removed: id}}})
  }, 60_000)
})

describe('routines tools through osmoda mcp (stdio, built binary)', () => {
  it('lists and triggers routines as the agent, and records the calls', async () => {
    const transport = new StdioClientTransport({command: process.execPath, args: [BIN, 'mcp'], env: {...(env.env as Record<string, string>), OSMODA_AGENT_ID: 'e2e'}, stderr: 'pipe'})
    const client = new Client({name: 'routines-e2e', version: '0.0.0'})
    await client.connect(transport)
    try {
      const list = await client.callTool({name: 'routine_list', arguments: {enabled: true}})
      expect(list.isError).toBeFalsy()
      expect((list.structuredContent as {routines: {id: string}[]}).routines.map((r) => r.id)).toContain('default-health')
      const run = await client.callTool({name: 'routine_trigger', arguments: {id: 'default-health'}})
      expect(run.structuredContent).toMatchObject({status: 'ok', trigger: 'manual', routine_id: 'default-health'})
      const gated = await client.callTool({name: 'routine_add', arguments: {name: 'mcp-cmd', trigger: {type: 'interval', seconds: 600}, action: {type: 'command', command: '/bin/true'}}})
      expect(gated.isError).toBe(true)
      expect((gated.content as {text: string}[])[0]?.text).toMatch(/^APPROVAL_REQUIRED/)
      const recorded = await until(async () => {
        const events = openLedgerQuery('tool.called', 'agent:e2e')
        return events.length ? events : undefined
      })
      expect(recorded[0]?.payload).toMatchObject({toolset: 'routines'})
    } finally {
      await client.close()
    }
  }, 30_000)
})

describe('routines config', () => {
  it('refuses to start on a bad config file, naming the key', async () => {
    const own = await testEnv()
    try {
      mkdirSync(own.paths.configDir, {recursive: true})
      writeFileSync(join(own.paths.configDir, 'routines.json'), JSON.stringify({commandTimeout: {defaultSecs: 900, maxSecs: 600}, maxConcurrent: 0}))
      const res = await own.cli(['daemon', 'routines'], {timeoutMs: 15_000})
      expect(res.exitCode).not.toBe(0)
      expect(res.stderr).toMatch(/maxConcurrent/)
      expect(existsSync(own.paths.socket('routines'))).toBe(false)
    } finally {
      await own.cleanup()
    }
  }, 30_000)
})
