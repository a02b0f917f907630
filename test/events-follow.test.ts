import {spawn} from 'node:child_process'
import {afterAll, beforeAll, describe, expect, it, onTestFinished} from 'vitest'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {BIN, testEnv, type TestEnv} from './helpers/env.js'

let env: TestEnv

beforeAll(async () => {
  env = await testEnv()
})

afterAll(async () => {
  await env?.cleanup()
})

async function until(check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('osmoda events --follow', () => {
  it('survives an agentd restart and resumes by seq without gaps or repeats', async () => {
    // Given a follower attached to a running agentd
    let agentd = await env.start('agentd')
    onTestFinished(async () => {
      follower.kill('SIGKILL')
      await agentd.stop()
    })
    const follower = spawn(process.execPath, [BIN, 'events', '--follow', '--json'], {env: env.env, stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    let err = ''
    follower.stdout.on('data', (d) => (out += d))
    follower.stderr.on('data', (d) => (err += d))
    const lines = () => out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as {seq: number; type: string})
    const record = (n: number) => env.client('agentd', agentdApi).toolCalls({tool: 'event_log', toolset: 'agentd', args_sha256: 'd'.repeat(64), outcome: 'ok', duration_ms: n})
    await new Promise((r) => setTimeout(r, 1500))
    await record(1)
    await until(() => lines().length === 1)
    // When agentd restarts and more happens
    await agentd.stopClean()
    await until(() => err.includes('reconnecting'))
    agentd = await env.start('agentd')
    await record(2)
    // Then the follower has every event since it attached, in order, once each
    await until(() => lines().length >= 4)
    const seen = lines()
    expect(seen.map((e) => e.type)).toEqual(['tool.called', 'daemon.stopped', 'daemon.started', 'tool.called'])
    expect(seen.map((e) => e.seq)).toEqual([seen[0]!.seq, seen[0]!.seq + 1, seen[0]!.seq + 2, seen[0]!.seq + 3])
    expect(err).toMatch(/reconnected to agentd/)
    follower.kill('SIGINT')
    expect(await new Promise((r) => follower.once('exit', (code) => r(code)))).toBe(130)
    await agentd.stopClean()
  })

  it('fails fast with exit 3 when agentd is not running at all', async () => {
    const res = await env.cli(['events', '--follow'])
    expect(res.exitCode).toBe(3)
    expect(res.stderr).toMatch(/osmoda-agentd is not reachable/)
  })
})
