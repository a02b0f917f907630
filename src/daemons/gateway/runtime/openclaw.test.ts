import {existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {authProfilesPath, createOpenclawDriver, openclawVersionSupported} from './openclaw.js'
import type {Frame, Run, RunLimits, RunOptions} from './types.js'

const FIXTURE = resolve('test/fixtures/scripted-runtime/claude')
const LIMITS: RunLimits = {chatWatchdogMs: 30_000, firstSignalTimeoutMs: 30_000, chatHardCapMs: 120_000}
const MCP = {mcpServers: {osmoda: {command: '/usr/bin/osmoda', args: ['mcp'], env: {OSMODA_AGENT_ID: 'osmoda'}}}}

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-openclaw-driver-'))
  writeFileSync(join(dir, 'mcp-req_01TEST.json'), JSON.stringify(MCP))
})
afterEach(() => {
  rmSync(dir, {recursive: true, force: true})
})

function options(scenario: string, extra: Partial<RunOptions> = {}): RunOptions {
  return {
    requestId: 'req_01TEST',
    agentId: 'osmoda',
    text: 'Memory?',
    model: 'claude-sonnet-4-6',
    systemPrompt: 'Be brief.',
    workspaceDir: dir,
    credential: {provider: 'anthropic', type: 'api_key', secret: 'sk-ant-api03-openclaw'},
    mcpConfigPath: join(dir, 'mcp-req_01TEST.json'),
    env: {SCRIPTED_RUNTIME: scenario, SCRIPTED_RECORD_FILE: join(dir, 'record.json')},
    ...extra,
  }
}

async function collect(run: Run): Promise<Frame[]> {
  const frames: Frame[] = []
  for await (const frame of run.frames) frames.push(frame)
  return frames
}

const driver = createOpenclawDriver({binary: FIXTURE})

describe('openclaw driver', () => {
  it('normalises newline-delimited events into the common frames', async () => {
    const frames = await collect(driver.startRun(options('openclaw-normal'), LIMITS))
    expect(frames).toEqual([
      {type: 'session', runtime_session_id: 'osmoda-req_01TEST'},
      {type: 'thinking'},
      {type: 'text', message_id: 'm1', delta: 'Checking '},
      {type: 'text', message_id: 'm1', delta: 'memory.'},
      {type: 'message', message_id: 'm1', text: 'Checking memory.'},
      {type: 'tool_use', tool: 'system_health', target: '/proc/meminfo'},
      {type: 'tool_result', tool: 'system_health', ok: false},
      {type: 'text', message_id: 'm2', delta: 'Memory is at 71%.'},
      {type: 'message', message_id: 'm2', text: 'Memory is at 71%.'},
      {type: 'done', reply: 'Memory is at 71%.'},
    ])
  })

  it('reassembles a pretty-printed final object', async () => {
    const frames = await collect(driver.startRun(options('openclaw-pretty', {runtimeSessionId: 'oc-77'}), LIMITS))
    expect(frames.filter((f) => f.type === 'garbled')).toEqual([])
    expect(frames.filter((f) => f.type === 'message').map((f) => (f as {text: string}).text)).toEqual(['First part.', 'Second part.'])
    expect(frames.at(-1)).toEqual({type: 'done', reply: 'First part.\n\nSecond part.'})
    expect(frames.some((f) => f.type === 'session')).toBe(false)
  })

  it('writes auth-profiles.json (0600) and a per-request MCP config, passes the key by env and the message by stdin', async () => {
    await collect(driver.startRun(options('openclaw-normal', {runtimeSessionId: 'oc-prev'}), LIMITS))
    const record = JSON.parse(readFileSync(join(dir, 'record.json'), 'utf8'))
    expect(record.argv).toEqual(['agent', '--local', '--session-id', 'oc-prev', '--model', 'anthropic/claude-sonnet-4-6', '--message-file', '/dev/stdin', '--json', '--timeout', '120'])
    expect(record.stdin).toBe('<osmoda-context>\nBe brief.\n</osmoda-context>\n\nMemory?')
    expect(record.env).toMatchObject({HOME: dir, ANTHROPIC_API_KEY: 'sk-ant-api03-openclaw'})
    expect(record.openclaw_config).toEqual({mcp: {servers: MCP.mcpServers}})
    // The per-request config is gone after the run; the auth profile stays, owner-only
    expect(existsSync(record.env.OPENCLAW_CONFIG_PATH)).toBe(false)
    const profiles = authProfilesPath(dir)
    expect(statSync(profiles).mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(profiles, 'utf8'))).toEqual({version: 1, profiles: {'anthropic:osmoda': {type: 'api_key', provider: 'anthropic', key: 'sk-ant-api03-openclaw'}}})
  })

  it('refuses OAuth credentials and missing ones', async () => {
    const oauth = await collect(driver.startRun(options('openclaw-normal', {credential: {provider: 'anthropic', type: 'oauth', secret: 'sk-ant-oat01-x'}}), LIMITS))
    expect(oauth).toEqual([{type: 'error', code: 'NO_CREDENTIAL', message: expect.stringContaining('API keys only')}])
  })

  it('a missing binary yields RUNTIME_NOT_FOUND', async () => {
    const frames = await collect(createOpenclawDriver({binary: join(dir, 'openclaw')}).startRun(options('openclaw-normal'), LIMITS))
    expect(frames).toEqual([{type: 'error', code: 'RUNTIME_NOT_FOUND', message: expect.any(String)}])
  })

  it('probe requires 2026.5 or newer', async () => {
    expect(openclawVersionSupported('2026.5.0')).toBe(true)
    expect(openclawVersionSupported('2027.1.3')).toBe(true)
    expect(openclawVersionSupported('2026.4.30')).toBe(false)
    expect(openclawVersionSupported(null)).toBe(false)
    const old = createOpenclawDriver({binary: FIXTURE, env: {SCRIPTED_VERSION: 'openclaw 2026.4.2'}})
    expect(await old.probe()).toMatchObject({available: false, version: '2026.4.2', error: expect.stringContaining('too old')})
    const current = createOpenclawDriver({binary: FIXTURE, env: {SCRIPTED_VERSION: '2026.5.1'}})
    expect(await current.probe()).toEqual({available: true, version: '2026.5.1'})
    expect(await createOpenclawDriver({binary: join(dir, 'missing')}).probe()).toMatchObject({available: false, version: null})
  })
})
