import {chmodSync, existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ROOT, testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'
import {rawRequest} from './helpers/raw-request.js'
import {frames, gatewayPort, op, readSse, sseEvents, wsConnect} from './helpers/gateway-kit.js'

// The runtime is the scripted stand-in for `claude` (test/fixtures/scripted-runtime): a real child
// process speaking stream-json. A wrapper picks the scenario from a file so turns can differ.
const FIXTURE = join(ROOT, 'test', 'fixtures', 'scripted-runtime', 'claude')
const SESSION = 'sess-scripted-1'
const KEY = 'sk-ant-api03-' + 'Chat0Secret'.repeat(5)

let env: TestEnv
let gateway: DaemonProcess
let port: number
let scenarioFile: string
let recordFile: string
let pidFile: string
const extraEnv = () => ({OSMODA_GATEWAY_RUNTIMES: JSON.stringify({claudeCodePath: join(env.base, 'claude-wrapper')}), OSMODA_GATEWAY_STALE_SUPERSEDE_MS: '2500'})

const scenario = (name: string) => writeFileSync(scenarioFile, name)
const recorded = () => JSON.parse(readFileSync(recordFile, 'utf8')) as {argv: string[]; stdin: string; env: Record<string, string>}
const receipt = async (id: string) => (await op(env, 'GET', `/requests/${id}`)).body
async function settled(id: string): Promise<any> {
  await expect.poll(async () => (await receipt(id)).status, {timeout: 15_000}).toMatch(/completed|failed|superseded/)
  return receipt(id)
}

beforeAll(async () => {
  env = await testEnv()
  scenarioFile = join(env.base, 'scenario')
  recordFile = join(env.base, 'record.json')
  pidFile = join(env.base, 'pids.json')
  scenario('normal')
  const wrapper = join(env.base, 'claude-wrapper')
  writeFileSync(
    wrapper,
    `#!/bin/sh\nSCRIPTED_RUNTIME="$(cat ${scenarioFile})" SCRIPTED_RECORD_FILE=${recordFile} SCRIPTED_PID_FILE=${pidFile} exec ${process.execPath} ${FIXTURE} "$@"\n`,
  )
  chmodSync(wrapper, 0o755)
  gateway = await env.start('gateway', extraEnv())
  port = await gatewayPort(env)
  const added = await op(env, 'POST', '/config/credentials', {label: 'main', provider: 'anthropic', type: 'api_key', secret: KEY})
  expect(added.status).toBe(201)
}, 60_000)

afterAll(async () => {
  if (existsSync(pidFile)) {
    try {
      process.kill(-JSON.parse(readFileSync(pidFile, 'utf8')).pgid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
  await gateway?.stopClean()
  await env?.cleanup()
})

describe('a chat turn end to end', () => {
  let requestId: string

  it('streams a normal turn over WS: accepted, text, tool bubbles, done', async () => {
    // Given an open socket
    const attempt = await wsConnect(port, {protocols: ['osmoda.v1', `osmoda.bearer.${env.token('operator')}`]})
    if (!attempt.ok) throw new Error('upgrade refused')
    const f = frames(attempt.ws)
    // When a chat frame is sent
    attempt.ws.send(JSON.stringify({type: 'chat', text: 'how is the disk?'}))
    // Then the turn streams to the end
    const accepted = await f.next((x) => x.type === 'accepted')
    requestId = accepted.request_id
    expect(accepted).toMatchObject({agent_id: 'osmoda', session_id: expect.stringMatching(/^ses_/)})
    const done = await f.next((x) => x.type === 'done', 15_000)
    expect(done).toEqual({type: 'done', request_id: requestId, reply: 'Disk is fine: 40% used.'})
    const tool = f.seen.find((x) => x.type === 'tool_use')
    expect(tool).toMatchObject({request_id: requestId, target: 'df -h /'})
    expect(f.seen.find((x) => x.type === 'tool_result')).toMatchObject({request_id: requestId, ok: true})
    expect(f.seen.filter((x) => x.type === 'text').every((x) => x.request_id === requestId)).toBe(true)
    expect(f.seen.some((x) => x.type === 'event' && x.event.type === 'request.completed')).toBe(true)
    attempt.ws.close()
    // And the runtime got the message on stdin, the MCP config and the key in its env, not argv
    const rec = recorded()
    expect(rec.stdin).toBe('how is the disk?')
    expect(rec.argv).toContain('--mcp-config')
    expect(rec.argv).not.toContain('--resume')
    expect(rec.env.ANTHROPIC_API_KEY).toBe(KEY)
    expect(rec.argv.join(' ')).not.toContain(KEY)
    // And the per-run MCP config file is gone after the run
    const mcp = rec.argv[rec.argv.indexOf('--mcp-config') + 1] as string
    expect(existsSync(mcp)).toBe(false)
    // And the workspace got its templates and auto skills (SPEC §5), and the prompt is SOUL.md + AGENTS.md + the channel note
    const workspace = join(env.paths.stateDir, 'workspace-osmoda')
    expect(['SOUL.md', 'AGENTS.md', 'TOOLS.md', 'USER.md', 'HEARTBEAT.md'].filter((file) => !existsSync(join(workspace, file)))).toEqual([])
    expect(existsSync(join(workspace, '.claude', 'skills', 'self-healing', 'SKILL.md'))).toBe(true)
    const prompt = rec.argv[rec.argv.indexOf('--system-prompt') + 1] as string
    expect(prompt).toContain(readFileSync(join(workspace, 'SOUL.md'), 'utf8').trim())
    expect(prompt).toContain('Diagnose before fixing')
    expect(prompt).toContain('Channel: web chat.')
  })

  it('keeps a receipt, stream events and a duplicate-free history', async () => {
    const r = await receipt(requestId)
    expect(r).toMatchObject({status: 'completed', action: 'chat_message', channel: 'web', result: {reply_chars: 23, tools_used: 1}})
    const history = await op(env, 'GET', '/chat-history?session_key=agent:osmoda')
    const entries = history.body.entries.map((e: any) => [e.kind, e.text ?? e.tool, e.ok])
    expect(entries).toEqual([
      ['user', 'how is the disk?', null],
      ['agent', 'Let me check the system.', null],
      ['tool', expect.stringContaining('shell_exec'), true],
      ['agent', 'Disk is fine: 40% used.', null],
    ])
    const since = await op(env, 'GET', `/chat-history?session_key=agent:osmoda&since=${history.body.entries[1].seq}`)
    expect(since.body.entries).toHaveLength(2)
    const sse = await readSse(port, `/events?cursor=0&filter=request`, {authorization: `Bearer ${env.token('operator')}`}, (t) => sseEvents(t).some((e) => e.type === 'request.completed'))
    const types = sseEvents(sse.text).filter((e) => e.request_id === requestId).map((e) => e.type)
    expect(types[0]).toBe('request.accepted')
    expect(types.at(-1)).toBe('request.completed')
  })

  it('answers POST /chat with 202 and resumes the runtime session on the next turn', async () => {
    const res = await op(env, 'POST', '/chat', {text: 'and memory?'})
    expect(res.status).toBe(202)
    expect((await settled(res.body.request_id)).status).toBe('completed')
    const rec = recorded()
    expect(rec.argv.slice(rec.argv.indexOf('--resume'), rec.argv.indexOf('--resume') + 2)).toEqual(['--resume', SESSION])
  })

  it('allows one active request per session: SESSION_BUSY, supersede, stop', async () => {
    // Given a turn that hangs
    scenario('hang')
    const first = await op(env, 'POST', '/chat', {text: 'slow one'})
    expect(first.status).toBe(202)
    // When a second message arrives on the same session
    const busy = await op(env, 'POST', '/chat', {text: 'again'})
    // Then it is refused with the active request id
    expect(busy.status).toBe(409)
    expect(busy.body.error).toMatchObject({code: 'SESSION_BUSY', details: {active_request_id: first.body.request_id}})
    // And with supersede the old one is stopped and marked superseded
    const second = await op(env, 'POST', '/chat', {text: 'again', supersede: true})
    expect(second.status).toBe(202)
    expect(await settled(first.body.request_id)).toMatchObject({status: 'superseded', failure: {code: 'SUPERSEDED'}})
    // And POST /requests/{id}/stop ends the new one as failed/STOPPED
    const stopped = await op(env, 'POST', `/requests/${second.body.request_id}/stop`)
    expect(stopped.status).toBe(200)
    expect(stopped.body).toMatchObject({status: 'failed', failure: {code: 'STOPPED'}})
    const again = await op(env, 'POST', `/requests/${second.body.request_id}/stop`)
    expect(again.status).toBe(409)
    scenario('normal')
  })

  it('lets the agent start one level of sub-request from its own running request', async () => {
    // Given a running (hanging) request of agent osmoda
    scenario('hang')
    const parent = await op(env, 'POST', '/chat', {text: 'parent', session_key: 'sub:parent'})
    const asAgent = (body: unknown, agentId = 'osmoda') =>
      rawRequest(env.paths.socket('gateway'), 'POST', '/chat', {headers: {authorization: `Bearer ${env.token('agent')}`, 'content-type': 'application/json', 'x-osmoda-agent-id': agentId}, body: JSON.stringify(body)})
    // When the agent asks for a sub-request of it
    const child = await asAgent({text: 'child', session_key: 'sub:child', parent_request_id: parent.body.request_id, cwd: '/workspace/demo'})
    // Then it runs; a grandchild, another agent's parent, a cwd outside /workspace or no parent are refused
    expect(child.status).toBe(202)
    expect((await asAgent({text: 'grandchild', session_key: 'sub:grand', parent_request_id: child.body.request_id})).status).toBe(403)
    expect((await asAgent({text: 'x', session_key: 'sub:x', parent_request_id: parent.body.request_id}, 'mobile')).status).toBe(403)
    expect((await asAgent({text: 'x', session_key: 'sub:y', parent_request_id: parent.body.request_id, cwd: '/etc'})).body.error.code).toBe('PATH_DENIED')
    expect((await asAgent({text: 'x'})).status).toBe(403)
    await op(env, 'POST', `/requests/${child.body.request_id}/stop`)
    await op(env, 'POST', `/requests/${parent.body.request_id}/stop`)
    scenario('normal')
  })

  it('supersedes a request silent for staleSupersedeMs without being asked to', async () => {
    scenario('hang')
    const first = await op(env, 'POST', '/chat', {text: 'stale one', session_key: 'stale:test'})
    await new Promise((r) => setTimeout(r, 3000))
    scenario('normal')
    const second = await op(env, 'POST', '/chat', {text: 'fresh one', session_key: 'stale:test'})
    expect(second.status).toBe(202)
    expect(await settled(first.body.request_id)).toMatchObject({status: 'superseded'})
    expect((await settled(second.body.request_id)).status).toBe('completed')
  })

  it('survives kill -9 mid-turn: sessions.json intact, history replays, the session resumes', async () => {
    // Given a turn that has produced its first text and then hangs (its pids recorded)
    const steps = join(env.base, 'hang-steps.json')
    const assistant = {type: 'assistant', session_id: SESSION, message: {id: 'msg_9', type: 'message', role: 'assistant', content: [{type: 'text', text: 'Working on it'}]}}
    writeFileSync(steps, JSON.stringify([{line: {type: 'system', subtype: 'init', session_id: SESSION, model: 'scripted', tools: []}}, {writePids: true}, {line: assistant}, {hang: true}]))
    scenario(steps)
    const res = await op(env, 'POST', '/chat', {text: 'long task'})
    await expect.poll(async () => (await receipt(res.body.request_id)).status, {timeout: 10_000}).toBe('in_progress')
    await new Promise((r) => setTimeout(r, 400))
    // When the gateway is killed with SIGKILL
    await gateway.stop('SIGKILL')
    // Then sessions.json is complete and names the runtime session
    const sessions = JSON.parse(readFileSync(join(env.paths.stateDir, 'gateway', 'sessions.json'), 'utf8'))
    expect(sessions.sessions.find((s: any) => s.key === 'agent:osmoda')).toMatchObject({runtime_session_id: SESSION, quarantined: false})
    // And after a restart the interrupted receipt is closed, history replays, the session resumes
    process.kill(-JSON.parse(readFileSync(pidFile, 'utf8')).pgid, 'SIGKILL')
    scenario('normal')
    gateway = await env.start('gateway', extraEnv())
    port = await gatewayPort(env)
    expect(await receipt(res.body.request_id)).toMatchObject({status: 'failed', failure: {code: 'STOPPED'}})
    const history = await op(env, 'GET', '/chat-history?session_key=agent:osmoda')
    expect(history.body.entries.filter((e: any) => e.kind === 'user').map((e: any) => e.text)).toEqual(['how is the disk?', 'and memory?', 'slow one', 'again', 'long task'])
    const next = await op(env, 'POST', '/chat', {text: 'are you back?'})
    expect((await settled(next.body.request_id)).status).toBe('completed')
    const rec = recorded()
    expect(rec.argv[rec.argv.indexOf('--resume') + 1]).toBe(SESSION)
  })

  it('never logs the credential', () => {
    expect(gateway.stderr()).not.toContain(KEY)
  })
})
