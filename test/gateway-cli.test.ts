import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ROOT, testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'
import {op, scriptedRuntime} from './helpers/gateway-kit.js'

const KEY = 'sk-ant-api03-' + 'CliSecretKey'.repeat(5)
let env: TestEnv
let gateway: DaemonProcess

beforeAll(async () => {
  env = await testEnv()
  const runtime = scriptedRuntime(env, ROOT)
  gateway = await env.start('gateway', runtime.env)
}, 60_000)

afterAll(async () => {
  await gateway?.stopClean()
  await env?.cleanup()
})

describe('osmoda gateway … and osmoda chat', () => {
  it('chat without a credential fails with AGENT_DISCONNECTED and exit 1', async () => {
    const res = await env.cli(['chat', 'hello', '--json'])
    expect(res.exitCode).toBe(1)
    expect(res.json.error.code).toBe('AGENT_DISCONNECTED')
  })

  it('gateway credentials shows previews, never the secret', async () => {
    await op(env, 'POST', '/config/credentials', {label: 'main', provider: 'anthropic', type: 'api_key', secret: KEY})
    const res = await env.cli(['gateway', 'credentials', '--json'])
    expect(res.exitCode).toBe(0)
    expect(res.json.result.credentials[0]).toMatchObject({label: 'main', is_default: true})
    expect(res.stdout + res.stderr).not.toContain(KEY)
    const human = await env.cli(['gateway', 'credentials'])
    expect(human.stdout).toContain('SECRET_PREVIEW')
    expect(human.stdout).not.toContain(KEY)
  })

  it('chat streams one turn and returns it under --json', async () => {
    const human = await env.cli(['chat', 'how is the disk?'])
    expect(human.exitCode).toBe(0)
    expect(human.stdout).toContain('Disk is fine: 40% used.')
    expect(human.stderr).toContain('[shell_exec df -h /]')
    const json = await env.cli(['chat', 'again', '--json'])
    expect(json.json.result[0]).toMatchObject({agent_id: 'osmoda', reply: 'Disk is fine: 40% used.', tools: [{tool: 'shell_exec', target: 'df -h /', ok: true}]})
  })

  it('chat reads one turn per stdin line', async () => {
    const res = await env.cli(['chat', '--json', '--session', 'cli:lines'], {input: 'first\n\nsecond\n'})
    expect(res.exitCode).toBe(0)
    expect(res.json.result).toHaveLength(2)
    expect(res.json.result[0].session_id).toBe(res.json.result[1].session_id)
  })

  it('gateway status, agents and restart-agent', async () => {
    const status = await env.cli(['gateway', 'status', '--json'])
    expect(status.json.result).toMatchObject({status: 'ok', credentials_count: 1})
    expect(status.json.result.drivers).toEqual(expect.arrayContaining([expect.objectContaining({name: 'claude-code', available: true}), expect.objectContaining({name: 'openclaw', available: false})]))
    const agents = await env.cli(['gateway', 'agents', '--json'])
    expect(agents.json.result.agents.map((a: {id: string}) => a.id)).toEqual(['osmoda', 'mobile'])
    expect(agents.json.result.agents[0].last_frame_at).not.toBeNull()
    const restart = await env.cli(['gateway', 'restart-agent', 'osmoda', '--json'])
    expect(restart.json.result.request_id).toMatch(/^req_/)
    // Without agentd the tool plane check of the probe fails: the receipt says so
    await expect.poll(async () => (await op(env, 'GET', `/requests/${restart.json.result.request_id}`)).body.status, {timeout: 30_000}).toBe('failed')
    const failed = await op(env, 'GET', `/requests/${restart.json.result.request_id}`)
    expect(failed.body.failure).toMatchObject({code: 'PROBE_FAILED', message: expect.stringContaining('osmoda mcp --check')})
    const ghost = await env.cli(['gateway', 'restart-agent', 'ghost', '--json'])
    expect(ghost.exitCode).toBe(1)
    expect(ghost.json.error.code).toBe('NOT_FOUND')
    const agentToken = await env.cli(['gateway', 'agents', '--json'], {env: {OSMODA_TOKEN: env.token('agent')}})
    expect(agentToken.exitCode).toBe(4)
  })

  it('exits 3 when the gateway is down', async () => {
    await gateway.stopClean()
    const res = await env.cli(['chat', 'anyone?', '--json'])
    expect(res.exitCode).toBe(3)
    const status = await env.cli(['gateway', 'status', '--json'])
    expect(status.exitCode).toBe(3)
    gateway = await env.start('gateway', scriptedRuntime(env, ROOT).env)
  })
})
