import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {pathToFileURL} from 'node:url'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {SessionStore, sessionKey} from './sessions.js'

let dir: string
let file: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-sessions-'))
  file = join(dir, 'gateway', 'sessions.json')
})
afterEach(() => {
  rmSync(dir, {recursive: true, force: true})
})

const readJson = () => JSON.parse(readFileSync(file, 'utf8'))

describe('SessionStore', () => {
  it('keys sessions per agent or per channel user', () => {
    expect(sessionKey('agent', 'osmoda', 'telegram', '42')).toBe('agent:osmoda')
    expect(sessionKey('channel_user', 'mobile', 'telegram', '42')).toBe('mobile:telegram:42')
  })

  it('persists sessions debounced, 0600, and loads them at start', async () => {
    // Given a store that resolves a session and records its runtime session
    const store = new SessionStore({file, debounceMs: 50})
    const session = store.resolve({key: 'agent:osmoda', agentId: 'osmoda', runtime: 'claude-code', workspaceDir: '/ws/osmoda'})
    store.setRuntimeSessionId(session.id, 'rt-1', 'claude-code')
    // Then nothing is written before the debounce, and the file exists right after it
    expect(existsSync(file)).toBe(false)
    await new Promise((r) => setTimeout(r, 150))
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readJson()).toMatchObject({version: 1, sessions: [{id: session.id, key: 'agent:osmoda', runtime_session_id: 'rt-1', quarantined: false}]})
    // When a new store loads the file, the same session resolves and resumes the runtime session
    const again = new SessionStore({file})
    const loaded = again.resolve({key: 'agent:osmoda', agentId: 'osmoda', runtime: 'claude-code', workspaceDir: '/ws/osmoda'})
    expect(loaded.id).toBe(session.id)
    expect(again.resumableRuntimeSession(loaded.id)).toBe('rt-1')
    store.close()
    again.close()
  })

  it('flushes pending changes on close', () => {
    const store = new SessionStore({file, debounceMs: 60_000})
    store.resolve({key: 'agent:osmoda', agentId: 'osmoda', runtime: 'claude-code', workspaceDir: '/ws'})
    store.close()
    expect(readJson().sessions).toHaveLength(1)
  })

  it('wipes the foreign runtime session when the runtime or workspace changes', () => {
    const store = new SessionStore({file})
    const s = store.resolve({key: 'agent:osmoda', agentId: 'osmoda', runtime: 'claude-code', workspaceDir: '/ws'})
    store.setRuntimeSessionId(s.id, 'claude-sess', 'claude-code')
    // When the agent switches to openclaw
    const switched = store.resolve({key: 'agent:osmoda', agentId: 'osmoda', runtime: 'openclaw', workspaceDir: '/ws'})
    // Then the same session continues without the claude session id, and a late claude frame cannot re-tag it
    expect(switched).toMatchObject({id: s.id, runtime: 'openclaw', runtime_session_id: null})
    store.setRuntimeSessionId(s.id, 'claude-sess', 'claude-code')
    expect(store.resumableRuntimeSession(s.id)).toBeNull()
    store.setRuntimeSessionId(s.id, 'oc-sess', 'openclaw')
    expect(store.resumableRuntimeSession(s.id)).toBe('oc-sess')
    // And a workspace change wipes it too
    expect(store.resolve({key: 'agent:osmoda', agentId: 'osmoda', runtime: 'openclaw', workspaceDir: '/ws2'}).runtime_session_id).toBeNull()
    store.close()
  })

  it('never resumes a quarantined runtime session; a fresh one lifts the quarantine', () => {
    const store = new SessionStore({file})
    const s = store.resolve({key: 'agent:osmoda', agentId: 'osmoda', runtime: 'claude-code', workspaceDir: '/ws'})
    store.setRuntimeSessionId(s.id, 'wedged-sess', 'claude-code')
    store.quarantine(s.id)
    expect(store.resumableRuntimeSession(s.id)).toBeNull()
    expect(store.get(s.id)).toMatchObject({quarantined: true, runtime_session_id: null})
    store.setRuntimeSessionId(s.id, 'new-sess', 'claude-code')
    expect(store.get(s.id)).toMatchObject({quarantined: false, runtime_session_id: 'new-sess'})
    store.close()
  })

  it('reset drops the runtime session but keeps the record', () => {
    const store = new SessionStore({file})
    const s = store.resolve({key: 'agent:osmoda', agentId: 'osmoda', runtime: 'claude-code', workspaceDir: '/ws'})
    store.setRuntimeSessionId(s.id, 'x', 'claude-code')
    expect(store.reset(s.id)).toBe(true)
    expect(store.get(s.id)).toMatchObject({id: s.id, runtime_session_id: null})
    expect(store.reset('ses_01AAAAAAAAAAAAAAAAAAAAAAAA')).toBe(false)
    store.close()
  })

  it('drops sessions idle past the TTL', () => {
    let now = Date.parse('2026-11-01T00:00:00.000Z')
    const store = new SessionStore({file, ttlDays: 30, clock: () => now})
    const s = store.resolve({key: 'agent:osmoda', agentId: 'osmoda', runtime: 'claude-code', workspaceDir: '/ws'})
    now += 29 * 86_400_000
    expect(store.prune()).toEqual([])
    now += 2 * 86_400_000
    expect(store.prune()).toEqual([s.id])
    expect(store.getByKey('agent:osmoda')).toBeNull()
    store.close()
  })

  it.each([
    ['not JSON', '{"version": 1, "sessions": ['],
    ['wrong shape', '{"version": 2, "sessions": []}'],
    ['bad record', '{"version": 1, "sessions": [{"id": "nope"}]}'],
  ])('a corrupt file (%s) is moved aside with a clear problem, never overwritten', (_name, content) => {
    // Given a corrupt sessions.json
    mkdirSync(join(dir, 'gateway'))
    writeFileSync(file, content, {mode: 0o600})
    // When the store loads
    const store = new SessionStore({file})
    // Then it reports the problem, the original bytes are kept aside, and new writes do not touch them
    expect(store.loadProblem).toMatchObject({code: 'SESSIONS_CORRUPT', message: expect.stringContaining('moved to')})
    const aside = store.loadProblem?.moved_to as string
    expect(readFileSync(aside, 'utf8')).toBe(content)
    store.resolve({key: 'agent:osmoda', agentId: 'osmoda', runtime: 'claude-code', workspaceDir: '/ws'})
    store.close()
    expect(readFileSync(aside, 'utf8')).toBe(content)
    expect(readJson().sessions).toHaveLength(1)
  })

  it('survives kill -9 of a writer: the file always parses', async () => {
    // Given a child process that writes sessions.json as fast as it can (dist build of this module)
    const moduleUrl = pathToFileURL(resolve('dist/daemons/gateway/sessions.js')).href
    const script = `
      const {SessionStore} = await import(${JSON.stringify(moduleUrl)})
      const store = new SessionStore({file: ${JSON.stringify(file)}, debounceMs: 0})
      for (let i = 0; ; i++) {
        const s = store.resolve({key: 'agent:a' + (i % 50), agentId: 'osmoda', runtime: 'claude-code', workspaceDir: '/ws/' + 'x'.repeat(i % 400)})
        store.setRuntimeSessionId(s.id, 'rt-' + i, 'claude-code')
        store.flush()
        if (i === 20) process.stdout.write('writing\\n')
      }`
    for (let round = 0; round < 4; round++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {stdio: ['ignore', 'pipe', 'inherit']})
      await new Promise<void>((ok) => child.stdout.once('data', () => ok()))
      // While it writes, every read of the file parses
      const until = Date.now() + 300 + round * 100
      while (Date.now() < until) {
        expect(() => readJson()).not.toThrow()
        await new Promise((r) => setImmediate(r))
      }
      // When it is SIGKILLed mid-write
      const exited = new Promise((ok) => child.once('exit', ok))
      child.kill('SIGKILL')
      await exited
      // Then the file parses and loads cleanly, and the killed writer's temp files are cleaned at load
      expect(readJson().version).toBe(1)
      const store = new SessionStore({file})
      expect(store.loadProblem).toBeNull()
      expect(store.list().length).toBeGreaterThan(0)
      expect(readdirSync(join(dir, 'gateway')).filter((n) => n.includes('.osmoda-'))).toEqual([])
      store.close()
    }
  }, 30_000)
})
