import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync} from 'node:fs'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {egressApi} from '../src/daemons/egress/api.js'
import {watchApi} from '../src/daemons/watch/api.js'
import {routinesApi} from '../src/daemons/routines/api.js'
import {meshApi} from '../src/daemons/mesh/api.js'
import {backoffMs} from '../src/lib/supervisor.js'
import {BIN, testEnv, type TestEnv} from './helpers/env.js'

let env: TestEnv
let up: ChildProcess | null = null

beforeEach(async () => {
  env = await testEnv({init: false})
})

afterEach(async () => {
  if (up && up.exitCode === null) up.kill('SIGKILL')
  up = null
  await env.cleanup()
})

function startUp(args: string[]): {child: ChildProcess; stderr: () => string; exited: Promise<number | null>} {
  const child = spawn(process.execPath, [BIN, 'up', ...args], {env: env.env, stdio: ['ignore', 'pipe', 'pipe']})
  up = child
  let stderr = ''
  child.stderr?.on('data', (d) => (stderr += d))
  child.stdout?.resume()
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return {child, stderr: () => stderr, exited}
}

async function until<T>(probe: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe().catch(() => undefined)
    if (value) return value
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe('osmoda up', () => {
  it('initialises, starts agentd, restarts it after a crash and stops cleanly on Ctrl-C', async () => {
    const run = startUp(['--only', 'agentd'])
    await until(async () => run.stderr().includes('osmoda is up'))
    expect(run.stderr()).toContain(env.paths.tokensDir)
    const first = await until(async () => (await env.client('agentd', agentdApi).health()).pid)
    // When agentd crashes
    process.kill(first, 'SIGKILL')
    // Then the supervisor starts a new one after its back-off
    const second = await until(async () => {
      const pid = (await env.client('agentd', agentdApi).health()).pid
      return pid !== first && pid
    })
    expect(run.stderr()).toMatch(/agentd\s+backoff.*signal SIGKILL; restarting in 1 s/)
    // When the operator presses Ctrl-C
    run.child.kill('SIGINT')
    // Then up exits 0, agentd is gone and its socket removed
    expect(await run.exited).toBe(0)
    expect(existsSync(env.paths.socket('agentd'))).toBe(false)
    expect(() => process.kill(second, 0)).toThrow()
  })

  it('hosts every daemon in one process with --single-process', async () => {
    const run = startUp(['--single-process'])
    await until(async () => run.stderr().includes('osmoda is up'))
    const health = await env.client('agentd', agentdApi).health()
    expect(health.pid).toBe(run.child.pid)
    // egress runs too, beside agentd, with its proxy socket for sandboxes
    expect((await env.client('egress', egressApi).health()).pid).toBe(run.child.pid)
    expect(existsSync(`${env.paths.runDir}/egress-proxy.sock`)).toBe(true)
    expect((await env.client('watch', watchApi).health()).pid).toBe(run.child.pid)
    // and routines, with its six default routines
    expect(await env.client('routines', routinesApi).health()).toMatchObject({pid: run.child.pid, routine_count: 6})
    // and mesh, listening for peers (on a free port here)
    expect(await env.client('mesh', meshApi).health()).toMatchObject({pid: run.child.pid, listening: true})
    run.child.kill('SIGTERM')
    expect(await run.exited).toBe(0)
    expect(existsSync(env.paths.socket('agentd'))).toBe(false)
    expect(existsSync(env.paths.socket('egress'))).toBe(false)
    expect(existsSync(env.paths.socket('routines'))).toBe(false)
    expect(existsSync(`${env.paths.runDir}/egress-proxy.sock`)).toBe(false)
  })

  it('refuses to start a second stack over a running one', async () => {
    const run = startUp(['--only', 'agentd'])
    await until(async () => run.stderr().includes('osmoda is up'))
    const second = await env.cli(['up', '--json'])
    expect(second.exitCode).toBe(1)
    expect(second.json.error).toMatchObject({code: 'ALREADY_EXISTS', message: expect.stringMatching(/^agentd is already running \(pid \d+\)/)})
    run.child.kill('SIGINT')
    expect(await run.exited).toBe(0)
  })

  it('rejects an unknown daemon with a usage error', async () => {
    const res = await env.cli(['up', '--only', 'agentd,nope', '--json'])
    expect(res.exitCode).toBe(2)
    expect(res.json.error.message).toMatch(/nope/)
  })

  it('backs off 1 s, 2 s, 4 s … capped at 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(backoffMs)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000])
  })
})
