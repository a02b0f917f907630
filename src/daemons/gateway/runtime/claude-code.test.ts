import {chmodSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {requireTool} from '../../../../test/helpers/system-tool.js'
import {CLAUDE_DISALLOWED_TOOLS, createClaudeCodeDriver} from './claude-code.js'
import type {Frame, Run, RunLimits, RunOptions} from './types.js'

const FIXTURE = resolve('test/fixtures/scripted-runtime/claude')
const RELAXED: RunLimits = {chatWatchdogMs: 30_000, firstSignalTimeoutMs: 30_000, chatHardCapMs: 60_000}

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-claude-driver-'))
})
afterEach(() => {
  rmSync(dir, {recursive: true, force: true})
})

function options(scenario: string, extra: Partial<RunOptions> = {}): RunOptions {
  return {
    requestId: 'req_01TEST',
    agentId: 'osmoda',
    text: 'How is the disk?',
    model: 'claude-opus-4-6',
    systemPrompt: 'You are the server.',
    workspaceDir: dir,
    credential: {provider: 'anthropic', type: 'oauth', secret: 'sk-ant-oat01-secret-token'},
    mcpConfigPath: join(dir, 'mcp.json'),
    env: {SCRIPTED_RUNTIME: scenario, SCRIPTED_RECORD_FILE: join(dir, 'record.json'), SCRIPTED_PID_FILE: join(dir, 'pids.json')},
    ...extra,
  }
}

async function collect(run: Run): Promise<Frame[]> {
  const frames: Frame[] = []
  for await (const frame of run.frames) frames.push(frame)
  return frames
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch {
    return false
  }
}

async function waitForFile(path: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    try {
      return readFileSync(path, 'utf8')
    } catch {
      await new Promise((r) => setTimeout(r, 25))
    }
  }
  throw new Error(`${path} never appeared`)
}

const driver = createClaudeCodeDriver({binary: FIXTURE})

describe('claude-code driver', () => {
  it('turns a two-message turn with a tool call into exact frames', async () => {
    // Given the scripted runtime's normal turn (message 1 delivered twice, message 2 growing)
    // When a run completes
    const frames = await collect(driver.startRun(options('normal'), RELAXED))
    // Then the frames are exactly these: no glued, doubled or truncated text
    expect(frames).toEqual([
      {type: 'session', runtime_session_id: 'sess-scripted-1'},
      {type: 'thinking'},
      {type: 'text', message_id: 'msg_1', delta: 'Let me check the system.'},
      {type: 'tool_use', tool: 'shell_exec', target: 'df -h /'},
      {type: 'message', message_id: 'msg_1', text: 'Let me check the system.'},
      {type: 'tool_result', tool: 'shell_exec', ok: true},
      {type: 'text', message_id: 'msg_2', delta: 'Disk is fine'},
      {type: 'text', message_id: 'msg_2', delta: ': 40% used.'},
      {type: 'message', message_id: 'msg_2', text: 'Disk is fine: 40% used.'},
      {type: 'done', reply: 'Disk is fine: 40% used.'},
    ])
  })

  it('spawns claude with the SPEC argv, the message on stdin and a minimal env', async () => {
    // Given a run resuming a runtime session with an API key and a base URL
    const opts = options('normal', {runtimeSessionId: 'sess-prev', credential: {provider: 'anthropic', type: 'api_key', secret: 'sk-ant-api03-key', base_url: 'https://proxy.example'}})
    process.env.SUDO_ASKPASS = '/bin/false'
    try {
      await collect(driver.startRun(opts, RELAXED))
    } finally {
      delete process.env.SUDO_ASKPASS
    }
    // Then argv, stdin, cwd and env are exactly what SPEC §2.10 names
    const record = JSON.parse(readFileSync(join(dir, 'record.json'), 'utf8'))
    expect(record.argv).toEqual([
      '-p', '--output-format', 'stream-json', '--verbose', '--model', 'claude-opus-4-6', '--system-prompt', 'You are the server.',
      '--mcp-config', join(dir, 'mcp.json'), '--strict-mcp-config', '--allowedTools', 'mcp__osmoda__*', '--disallowedTools', CLAUDE_DISALLOWED_TOOLS,
      '--resume', 'sess-prev',
    ])
    expect(record.stdin).toBe('How is the disk?')
    expect(record.cwd).toBe(dir)
    expect(record.env).toMatchObject({HOME: dir, LANG: 'C.UTF-8', TZ: 'UTC', ANTHROPIC_API_KEY: 'sk-ant-api03-key', ANTHROPIC_BASE_URL: 'https://proxy.example'})
    expect(record.env.CLAUDE_CODE_OAUTH_TOKEN).toBeUndefined()
    expect(record.env.SUDO_ASKPASS).toBeUndefined()
  })

  it('passes an OAuth token as CLAUDE_CODE_OAUTH_TOKEN and never resumes without a session id', async () => {
    await collect(driver.startRun(options('normal'), RELAXED))
    const record = JSON.parse(readFileSync(join(dir, 'record.json'), 'utf8'))
    expect(record.env.CLAUDE_CODE_OAUTH_TOKEN).toBe('sk-ant-oat01-secret-token')
    expect(record.env.ANTHROPIC_API_KEY).toBeUndefined()
    expect(record.argv).not.toContain('--resume')
  })

  it('stops a silent run with CHAT_WATCHDOG and kills its whole process group', async () => {
    // Given a runtime that prints once, spawns a child in its group and then hangs
    const run = driver.startRun(options('child-hang'), {chatWatchdogMs: 400, firstSignalTimeoutMs: 30_000, chatHardCapMs: 60_000})
    const pids = JSON.parse(await waitForFile(join(dir, 'pids.json')))
    expect(pids.pgid).toBe(pids.pid)
    expect(groupAlive(pids.pgid)).toBe(true)
    // When the watchdog fires
    const frames = await collect(run)
    // Then the run ends with a typed error, no done, and nothing of the group is left
    expect(frames.at(-1)).toMatchObject({type: 'error', code: 'CHAT_WATCHDOG'})
    expect(frames.some((f) => f.type === 'done')).toBe(false)
    expect(groupAlive(pids.pgid)).toBe(false)
  }, 15_000)

  it('before the first signal only the first-signal cap applies, even when the watchdog is shorter', async () => {
    const frames = await collect(driver.startRun(options('hang'), {chatWatchdogMs: 100, firstSignalTimeoutMs: 600, chatHardCapMs: 60_000}))
    expect(frames).toEqual([expect.objectContaining({type: 'error', code: 'FIRST_SIGNAL_TIMEOUT'})])
  })

  it('stops a run that never says anything with FIRST_SIGNAL_TIMEOUT', async () => {
    const started = Date.now()
    const frames = await collect(driver.startRun(options('hang'), {chatWatchdogMs: 30_000, firstSignalTimeoutMs: 300, chatHardCapMs: 60_000}))
    expect(frames).toEqual([{type: 'error', code: 'FIRST_SIGNAL_TIMEOUT', message: expect.stringContaining('300 ms')}])
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('a heartbeat is a first signal, and one reporting in-flight tools keeps the watchdog quiet', async () => {
    // Given a hanging runtime whose tool plane keeps reporting an in-flight tool call
    const run = driver.startRun(options('hang'), {chatWatchdogMs: 400, firstSignalTimeoutMs: 300, chatHardCapMs: 60_000})
    const beat = setInterval(() => run.noteHeartbeat(1), 100)
    await new Promise((r) => setTimeout(r, 1000))
    // Then neither cap fired while heartbeats continued
    clearInterval(beat)
    const pending = collect(run)
    // When heartbeats stop (or report no tools), the watchdog fires
    run.noteHeartbeat(0)
    const frames = await pending
    expect(frames).toEqual([expect.objectContaining({type: 'error', code: 'CHAT_WATCHDOG'})])
  })

  it('keeps a slow but talking run alive past the watchdog period', async () => {
    const frames = await collect(
      driver.startRun(options('slow', {env: {SCRIPTED_RUNTIME: 'slow', SCRIPTED_SLOW_MS: '150', SCRIPTED_SLOW_COUNT: '6'}}), {chatWatchdogMs: 500, firstSignalTimeoutMs: 10_000, chatHardCapMs: 60_000}),
    )
    expect(frames.at(-1)).toEqual({type: 'done', reply: 'tick 1. tick 2. tick 3. tick 4. tick 5. tick 6.'})
    const text = frames.filter((f) => f.type === 'text').map((f) => (f as {delta: string}).delta).join('')
    expect(text).toBe('tick 1. tick 2. tick 3. tick 4. tick 5. tick 6.')
  })

  it('ends a talking run at the hard cap', async () => {
    const frames = await collect(
      driver.startRun(options('slow', {env: {SCRIPTED_RUNTIME: 'slow', SCRIPTED_SLOW_MS: '100', SCRIPTED_SLOW_COUNT: '100'}}), {chatWatchdogMs: 5000, firstSignalTimeoutMs: 5000, chatHardCapMs: 1500}),
    )
    expect(frames.at(-1)).toMatchObject({type: 'error', code: 'HARD_CAP'})
    expect(frames.filter((f) => f.type === 'text').length).toBeGreaterThan(2)
  })

  it('reports a crash mid-turn as RUNTIME_ERROR with the stderr tail, keeping the partial message', async () => {
    const frames = await collect(driver.startRun(options('crash'), RELAXED))
    expect(frames).toEqual([
      {type: 'session', runtime_session_id: 'sess-scripted-1'},
      {type: 'text', message_id: 'msg_1', delta: 'Starting'},
      {type: 'message', message_id: 'msg_1', text: 'Starting'},
      {type: 'error', code: 'RUNTIME_ERROR', message: expect.stringMatching(/exited with code 1: scripted: boom/)},
    ])
  })

  it('reports an error result as RUNTIME_ERROR', async () => {
    const frames = await collect(driver.startRun(options('error-result'), RELAXED))
    expect(frames.at(-1)).toEqual({type: 'error', code: 'RUNTIME_ERROR', message: expect.stringContaining('Invalid API key')})
  })

  it('skips garbled lines, reports each, and still completes', async () => {
    const frames = await collect(driver.startRun(options('garbled'), RELAXED))
    expect(frames.filter((f) => f.type === 'garbled')).toEqual([
      {type: 'garbled', line: 'this is not json'},
      {type: 'garbled', line: '{"type": "assistant", "message": '},
      {type: 'garbled', line: '[1, 2, 3]'},
    ])
    expect(frames.at(-1)).toEqual({type: 'done', reply: 'Still here.'})
  })

  it('stop() sends SIGTERM, then SIGKILL after 2 s to a group that ignores SIGTERM', async () => {
    // Given a runtime (and its child) that ignore SIGTERM
    const run = driver.startRun(options('ignore-term'), RELAXED)
    const pids = JSON.parse(await waitForFile(join(dir, 'pids.json')))
    const pending = collect(run)
    // When the user stops it
    const started = Date.now()
    await run.stop('user')
    const elapsed = Date.now() - started
    // Then it took the 2 s grace (SIGTERM was ignored), the group is gone, and the run says STOPPED
    expect(elapsed).toBeGreaterThanOrEqual(1900)
    expect(groupAlive(pids.pgid)).toBe(false)
    expect((await pending).at(-1)).toMatchObject({type: 'error', code: 'STOPPED'})
  }, 15_000)

  it('a run that talked once and then went silent keeps its partial message and ends with CHAT_WATCHDOG', async () => {
    const frames = await collect(driver.startRun(options('hang-after-first'), {chatWatchdogMs: 300, firstSignalTimeoutMs: 30_000, chatHardCapMs: 60_000}))
    expect(frames).toEqual([
      {type: 'session', runtime_session_id: 'sess-scripted-1'},
      {type: 'text', message_id: 'msg_1', delta: 'Working on it'},
      {type: 'message', message_id: 'msg_1', text: 'Working on it'},
      {type: 'error', code: 'CHAT_WATCHDOG', message: expect.stringContaining('300 ms')},
    ])
  })

  it('stop() right after start never spawns the runtime', async () => {
    const run = driver.startRun(options('normal'), RELAXED)
    const pending = collect(run)
    await run.stop('supersede')
    expect(await pending).toEqual([{type: 'error', code: 'SUPERSEDED', message: expect.any(String)}])
    expect(run.pid).toBeNull()
    await new Promise((r) => setTimeout(r, 200))
    expect(() => readFileSync(join(dir, 'record.json'))).toThrow()
  })

  it('a missing binary yields RUNTIME_NOT_FOUND, never a throw', async () => {
    const missing = createClaudeCodeDriver({binary: join(dir, 'no-such-claude')})
    const run = missing.startRun(options('normal'), RELAXED)
    const frames = await collect(run)
    expect(frames).toEqual([{type: 'error', code: 'RUNTIME_NOT_FOUND', message: expect.stringContaining('no-such-claude')}])
    expect(run.pid).toBeNull()
    const byName = await collect(createClaudeCodeDriver({binary: 'osmoda-no-such-claude'}).startRun(options('normal'), RELAXED))
    expect(byName[0]).toMatchObject({code: 'RUNTIME_NOT_FOUND'})
  })

  it('refuses to start without an Anthropic credential', async () => {
    const frames = await collect(driver.startRun(options('normal', {credential: null}), RELAXED))
    expect(frames).toEqual([{type: 'error', code: 'NO_CREDENTIAL', message: expect.any(String)}])
    const openai = await collect(driver.startRun(options('normal', {credential: {provider: 'openai', type: 'api_key', secret: 'sk-openai-xyz'}}), RELAXED))
    expect(openai[0]).toMatchObject({code: 'NO_CREDENTIAL'})
  })

  it.skipIf(process.getuid?.() !== 0 || requireTool('setpriv', 'util-linux').skip)('drops to runAs through setpriv when root', async () => {
    // Given a workspace the unprivileged user may write its record into
    chmodSync(dir, 0o777)
    // When the run is started as nobody (present in /etc/passwd here)
    const frames = await collect(driver.startRun(options('normal', {runAs: 'nobody'}), RELAXED))
    // Then it completed, and the runtime ran as uid 65534
    expect(frames.at(-1)).toMatchObject({type: 'done'})
    expect(JSON.parse(readFileSync(join(dir, 'record.json'), 'utf8')).uid).toBe(65_534)
  })

  it('keeps the invoking user when runAs does not exist (dev mode)', async () => {
    await collect(driver.startRun(options('normal', {runAs: 'osmoda-no-such-user'}), RELAXED))
    expect(JSON.parse(readFileSync(join(dir, 'record.json'), 'utf8')).uid).toBe(process.getuid?.())
  })

  it('probes the binary version', async () => {
    expect(await driver.probe()).toEqual({available: true, version: '2.1.3'})
    expect(await createClaudeCodeDriver({binary: join(dir, 'missing')}).probe()).toMatchObject({available: false, version: null})
  })
})
