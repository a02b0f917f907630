// Watcher routes of watch end to end, with real agentd and watch daemons: bad input on every route
// (error envelope, nothing written), roles, agentd's real approval gate for watcher_add and
// watcher_remove, GET /health's watchers field, and the `osmoda watcher` CLI.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {watchApi} from '../src/daemons/watch/api.js'
import {openLedger} from '../src/lib/ledger/ledger.js'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'
import {rawRequest} from './helpers/raw-request.js'
import {badInputTable, onRoute, socketSender, type BadInputCase} from './helpers/bad-input.js'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {join} from 'node:path'
import {ROOT} from './helpers/env.js'

let env: TestEnv
let agentd: DaemonProcess
let watch: DaemonProcess
let serviceDir: string
const wat = 'wat_01JDX8Q4S1T6V0W7Y2Z3A4B5C6'

// Ladder steps without back-off, so that the real-time test below sees a restart at the first failure.
const WATCH_ENV = () => ({
  OSMODA_WATCH_CURRENT_SYSTEM_LINK: join(env.base, 'no-link'),
  OSMODA_WATCH_SYSTEM_PROFILE: join(env.base, 'profiles', 'system'),
  OSMODA_WATCH_WATCHER: JSON.stringify({backoff: {initialSecs: 0, factor: 2, maxSecs: 60}, restartAttempts: 1}),
})

beforeAll(async () => {
  env = await testEnv()
  serviceDir = join(env.base, 'flappy')
  mkdirSync(serviceDir)
  agentd = await env.start('agentd')
  watch = await env.start('watch', WATCH_ENV())
})

afterAll(async () => {
  const pidFile = join(serviceDir ?? '/nonexistent', 'pid')
  if (existsSync(pidFile)) {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8')))
    } catch {
      // already dead
    }
  }
  await watch?.stopClean()
  await agentd?.stopClean()
  await env?.cleanup()
})

const send = socketSender({socket: () => watch.socket, token: (role) => env.token(role), agentHeaders: {'x-osmoda-agent-id': 'ops'}})

const tcp = {type: 'tcp_port', port: 1}
const add = (extra: Record<string, unknown>) => ({name: 'bad', check: tcp, ...extra})

const ADD = onRoute('POST', '/watcher/add', [
  {name: 'malformed JSON', body: '{"name": ', wantStatus: 400, wantCode: 'INVALID_JSON'},
  {name: 'missing name', body: {check: tcp}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'missing check', body: {name: 'x'}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'empty name', body: add({name: ''}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'name over 64 chars', body: add({name: 'x'.repeat(65)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'name with a newline', body: add({name: 'a\nb'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'unknown field', body: add({force: true}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'unknown check type', body: add({check: {type: 'ping', host: 'x'}}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'check with unknown field', body: add({check: {type: 'tcp_port', port: 80, retries: 3}}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'relative check command', body: add({check: {type: 'command', command: 'curl'}}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'missing check command', body: add({check: {type: 'command', command: '/nonexistent/check'}}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'unknown action type', body: add({actions: [{type: 'reboot'}]}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'action with unknown field', body: add({actions: [{type: 'rollback_generation', generation: 3}]}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'relative action executable', body: add({actions: [{type: 'command', command: 'systemctl', args: ['restart', 'x']}]}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'missing action executable', body: add({actions: [{type: 'command', command: '/nonexistent/restart'}]}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'action args not strings', body: add({actions: [{type: 'command', command: '/bin/true', args: [1]}]}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'action timeout 121', body: add({actions: [{type: 'command', command: '/bin/true', timeout_secs: 121}]}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'unit with a space', body: add({actions: [{type: 'restart_service', unit: 'nginx service'}]}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'notify without message', body: add({actions: [{type: 'notify'}]}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'notify with a bad severity', body: add({actions: [{type: 'notify', message: 'x', severity: 'panic'}]}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'empty ladder', body: add({actions: []}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: '9 actions', body: add({actions: Array(9).fill({type: 'notify', message: 'x'})}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'actions not an array', body: add({actions: {type: 'notify', message: 'x'}}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'interval 4', body: add({interval_secs: 4}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'negative interval', body: add({interval_secs: -30}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'huge interval', body: add({interval_secs: 1e12}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'fractional interval', body: add({interval_secs: 30.5}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'interval as string', body: add({interval_secs: '30'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'stable 29', body: add({stable_secs: 29}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'stable over a day', body: add({stable_secs: 86_401}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'negative stable', body: add({stable_secs: -1}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
])

const OTHER: BadInputCase[] = [
  {name: 'list: bad state', method: 'GET', path: '/watcher/list?state=exploded', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'list: unknown parameter', method: 'GET', path: '/watcher/list?all=1', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'get: bad id', method: 'GET', path: '/watcher/wat_nope', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'get: switch id', method: 'GET', path: '/watcher/sw_01JDX8Q4S1T6V0W7Y2Z3A4B5C6', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'get: traversal id', method: 'GET', path: '/watcher/..%2F..%2Fetc', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'get: unknown id', method: 'GET', path: `/watcher/${wat}`, wantStatus: 404, wantCode: 'NOT_FOUND'},
  {name: 'remove: unknown id', method: 'DELETE', path: `/watcher/${wat}`, wantStatus: 404, wantCode: 'NOT_FOUND'},
  {name: 'remove: bad id', method: 'DELETE', path: '/watcher/x', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'remove: unknown parameter', method: 'DELETE', path: `/watcher/${wat}?force=1`, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'reset: unknown id', method: 'POST', path: `/watcher/${wat}/reset`, body: {}, wantStatus: 404, wantCode: 'NOT_FOUND'},
  {name: 'reset: unknown field', method: 'POST', path: `/watcher/${wat}/reset`, body: {hard: true}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'reset: agent role', method: 'POST', path: `/watcher/${wat}/reset`, body: {}, role: 'agent', wantStatus: 403, wantCode: 'FORBIDDEN'},
  {name: 'reset: GET', method: 'GET', path: `/watcher/${wat}/reset`, wantStatus: 405, wantCode: 'METHOD_NOT_ALLOWED'},
  {name: 'add: PUT', method: 'PUT', path: '/watcher/add', body: {}, wantStatus: 405, wantCode: 'METHOD_NOT_ALLOWED'},
]

badInputTable('watcher bad input: POST /watcher/add', ADD, {send})
badInputTable('watcher bad input: other /watcher routes', OTHER, {send})

describe('watcher after the bad input', () => {
  it('rejects an unknown token', async () => {
    for (const [method, path] of [
      ['GET', '/watcher/list'],
      ['POST', '/watcher/add'],
      ['DELETE', `/watcher/${wat}`],
    ] as const) {
      const res = await rawRequest(watch.socket, method, path, {headers: {authorization: 'Bearer osm_op_nope'}})
      expect(res.status).toBe(401)
    }
  })

  it('wrote nothing and still serves', async () => {
    expect(await env.client('watch', watchApi).watcherList()).toEqual({watchers: []})
    const ledger = openLedger(env.paths.ledgerDb, {readonly: true})
    expect(ledger.query({type: 'watcher.*', limit: 10, order: 'asc'})).toEqual([])
    ledger.close()
  })
})

describe('watchers through agentd’s approval gate', () => {
  it('lets the agent add a notify-only watcher, asks approval for a command ladder, and always for removal', async () => {
    const agent = env.client('watch', watchApi, 'agent', {'x-osmoda-agent-id': 'ops'})
    const operator = env.client('watch', watchApi)
    // When the agent adds a watcher that only notifies: no approval is needed
    const plain = await agent.watcherAdd({name: 'port-1', check: {type: 'tcp_port', port: 1}, interval_secs: 3600})
    expect(plain).toMatchObject({state: 'healthy', actor: 'agent:ops', actions: [{type: 'notify', severity: 'warning'}], interval_secs: 3600, stable_secs: 300})
    // And a second watcher by the same name is a conflict
    await expect(agent.watcherAdd({name: 'port-1', check: {type: 'tcp_port', port: 2}})).rejects.toMatchObject({code: 'CONFLICT'})

    // When the agent adds a watcher whose ladder runs a command
    const body = {name: 'restarter', check: {type: 'tcp_port' as const, port: 1}, interval_secs: 3600, actions: [{type: 'command' as const, command: '/bin/true', args: []}]}
    const required = await agent.watcherAdd(body).catch((e: unknown) => e)
    // Then agentd's gate answers 412 APPROVAL_REQUIRED and nothing is added
    expect(required).toMatchObject({code: 'APPROVAL_REQUIRED', details: {operation: 'watcher_add'}})
    expect((await operator.watcherList()).watchers.map((w) => w.name)).toEqual(['port-1'])
    // When the operator approves and the agent repeats the same request
    const approvalId = (required as {details: {approval_id: string}}).details.approval_id
    await env.client('agentd', agentdApi).approvalApprove({id: approvalId})
    const added = await agent.watcherAdd({...body, approval_id: approvalId})
    expect(added).toMatchObject({name: 'restarter', actor: 'agent:ops', actions: [{type: 'command', command: '/bin/true'}]})

    // When the agent removes a watcher: always gated
    await expect(agent.watcherRemove({id: added.id})).rejects.toMatchObject({code: 'APPROVAL_REQUIRED', details: {operation: 'watcher_remove'}})
    expect((await operator.watcherGet({id: added.id})).name).toBe('restarter')
    // And the operator removes it directly
    expect(await operator.watcherRemove({id: added.id})).toEqual({removed: added.id})
    await expect(operator.watcherGet({id: added.id})).rejects.toMatchObject({code: 'NOT_FOUND'})

    // Then the ledger tells the story, and health counts what is left
    const ledger = openLedger(env.paths.ledgerDb, {readonly: true})
    const events = ledger.query({type: 'watcher.*', limit: 10, order: 'asc'}).map((e) => [e.type, e.actor, (e.payload as {name: string}).name])
    ledger.close()
    expect(events).toEqual([
      ['watcher.added', 'agent:ops', 'port-1'],
      ['watcher.added', 'agent:ops', 'restarter'],
      ['watcher.removed', expect.stringMatching(/^operator/), 'restarter'],
    ])
    expect((await agent.health()).watchers).toEqual({total: 1, healthy: 1, degraded: 0, recovering: 0, escalated: 0, breaker_open: 0})
    await operator.watcherRemove({id: plain.id})
    agent.close()
  }, 30_000)
})

describe('an approval asked for up front', () => {
  it('matches the later watcher_add call with the same arguments', async () => {
    // Given the agent asks agentd for exactly this watcher_add call, and the operator approves
    const args = {name: 'asked-first', check: {type: 'command' as const, command: '/bin/true'}, interval_secs: 3600}
    const agentAtAgentd = env.client('agentd', agentdApi, 'agent', {'x-osmoda-agent-id': 'ops'})
    const approval = await agentAtAgentd.approvalRequest({reason: 'watch a script', tool: 'watcher_add', arguments: args})
    expect(approval).toMatchObject({operation: 'watcher_add', daemon: 'watch', path: '/watcher/add', status: 'pending'})
    await env.client('agentd', agentdApi).approvalApprove({id: approval.id})
    // When the agent makes the call with the approval id
    const agent = env.client('watch', watchApi, 'agent', {'x-osmoda-agent-id': 'ops'})
    const added = await agent.watcherAdd({...args, approval_id: approval.id})
    // Then it is added: the body watch digests equals the one agentd resolved from the tool call
    expect(added).toMatchObject({name: 'asked-first', actor: 'agent:ops', check: {type: 'command', command: '/bin/true', args: []}})
    await env.client('watch', watchApi).watcherRemove({id: added.id})
    agent.close()
    agentAtAgentd.close()
  })
})

describe('osmoda watcher', () => {
  it('adds, lists, shows, resets and removes with --json and human output', async () => {
    // When the operator adds a watcher from the CLI
    const added = await env.cli(['watcher', 'add', '--name', 'cli-port', '--check', '{"type":"tcp_port","port":1}', '--interval', '3600', '--action', '{"type":"notify","message":"port 1 closed","severity":"critical"}', '--json'])
    expect(added.exitCode, added.stderr).toBe(0)
    const watcher = added.json.result as {id: string}
    expect(added.json.result).toMatchObject({name: 'cli-port', interval_secs: 3600, actions: [{type: 'notify', severity: 'critical'}]})
    // Then list, show and reset find it
    const list = await env.cli(['watcher', 'list', '--json'])
    expect(list.json.result.watchers.map((w: {id: string}) => w.id)).toEqual([watcher.id])
    const human = await env.cli(['watcher', 'list'])
    expect(human.stdout).toContain('cli-port')
    const show = await env.cli(['watcher', 'show', watcher.id])
    expect(show.exitCode).toBe(0)
    expect(show.stdout).toMatch(/tcp 127\.0\.0\.1:1 every 3600 s/)
    const reset = await env.cli(['watcher', 'reset', watcher.id, '--json'])
    expect(reset.json.result).toMatchObject({id: watcher.id, state: 'healthy'})
    // And a bad --check is a usage error before anything is sent
    const bad = await env.cli(['watcher', 'add', '--name', 'x', '--check', '{nope', '--json'])
    expect(bad.exitCode).not.toBe(0)
    expect(bad.json.error.message).toMatch(/--check is not valid JSON/)
    // When it is removed, it is gone; removing again is 404
    const removed = await env.cli(['watcher', 'remove', watcher.id, '--json'])
    expect(removed.json.result).toEqual({removed: watcher.id})
    const again = await env.cli(['watcher', 'remove', watcher.id, '--json'])
    expect(again.exitCode).not.toBe(0)
    expect(again.json.error.code).toBe('NOT_FOUND')
  }, 60_000)
})

describe('a watcher in the running daemon (real time)', () => {
  const freePort = () =>
    new Promise<number>((done) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const {port} = server.address() as {port: number}
        server.close(() => done(port))
      })
    })
  /** This watcher's events (other tests in the file add and remove their own). */
  const ledgerTypes = (id: string) => {
    const ledger = openLedger(env.paths.ledgerDb, {readonly: true})
    try {
      return ledger.query({type: 'watcher.*', limit: 100, order: 'asc'}).filter((e) => (e.payload as {watcher_id?: string}).watcher_id === id)
    } finally {
      ledger.close()
    }
  }
  async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
    const deadline = Date.now() + ms
    for (;;) {
      const value = await probe()
      if (value !== undefined) return value
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 200))
    }
  }

  it('restarts a service that died, and keeps its state across a restart of watch', async () => {
    // Given a real HTTP service that dies after answering one request
    const port = await freePort()
    const fixture = join(ROOT, 'test', 'fixtures', 'flapping-server.mjs')
    writeFileSync(join(serviceDir, 'lives'), '1')
    const restart = {type: 'command' as const, command: process.execPath, args: [fixture, 'start', serviceDir, String(port)]}
    const {spawnSync} = await import('node:child_process')
    expect(spawnSync(restart.command, restart.args).status).toBe(0)
    const starts = () => readFileSync(join(serviceDir, 'starts'), 'utf8').trim().split('\n').length
    // When the operator adds a watcher that restarts it with the command
    const operator = env.client('watch', watchApi)
    const w = await operator.watcherAdd({name: 'flappy', check: {type: 'http_get', url: `http://127.0.0.1:${port}/`}, interval_secs: 5, stable_secs: 30, actions: [restart, {type: 'notify', message: 'flappy down'}]})
    // Then the first check passes and kills it, the next one fails and the watcher restarts it at once
    const action = await until('a restart', () => ledgerTypes(w.id).find((e) => e.type === 'watcher.action_taken'))
    writeFileSync(join(serviceDir, 'lives'), '0')
    expect(action.payload).toMatchObject({watcher_id: w.id, action: 'command', ok: true})
    expect(ledgerTypes(w.id).map((e) => e.type)).toEqual(['watcher.added', 'watcher.degraded', 'watcher.action_taken'])
    expect(starts()).toBe(2)
    expect(await operator.watcherGet({id: w.id})).toMatchObject({state: 'degraded', step: 1, last_action: {type: 'command', ok: true}, actions_in_window: 1})

    // When watch restarts
    await watch.stopClean()
    watch = await env.start('watch', WATCH_ENV())
    // Then the watcher carries on from its persisted state: the restarted service passes, so it is recovering
    const after = env.client('watch', watchApi)
    const recovering = await until('recovering', async () => {
      const got = await after.watcherGet({id: w.id})
      return got.state === 'recovering' ? got : undefined
    })
    expect(recovering).toMatchObject({step: 1, actions_in_window: 1, consecutive_failures: 0})
    expect(recovering.results[0]).toMatchObject({ok: true, state: 'recovering'})
    expect(recovering.results.some((r) => !r.ok && r.state === 'degraded')).toBe(true)
    expect((await after.health()).watchers).toMatchObject({recovering: 1})
    await after.watcherRemove({id: w.id})
  }, 60_000)
})
