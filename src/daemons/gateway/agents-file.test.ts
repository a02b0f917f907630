import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {agentForChannel, openAgentsStore} from './agents-file.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-agents-'))
})
afterEach(() => rmSync(dir, {recursive: true, force: true}))

describe('agents.json', () => {
  it('seeds the two default profiles once, 0600', () => {
    const file = join(dir, 'agents.json')
    const store = openAgentsStore({file, mutable: true})
    expect(store.get().agents.map((a) => [a.id, a.model])).toEqual([['osmoda', 'claude-opus-4-6'], ['mobile', 'claude-sonnet-4-6']])
    expect(statSync(file).mode & 0o777).toBe(0o600)
    store.patch('osmoda', {model: 'claude-opus-4-7'})
    expect(openAgentsStore({file, mutable: true}).get().agents[0]?.model).toBe('claude-opus-4-7')
  })

  it('resolves channels: binding, else first enabled agent listing it, else AGENT_DISCONNECTED', () => {
    const store = openAgentsStore({file: join(dir, 'agents.json'), mutable: true})
    expect(agentForChannel(store.get(), 'telegram').id).toBe('mobile')
    store.patch('mobile', {enabled: false})
    expect(() => agentForChannel(store.get(), 'telegram')).toThrow(expect.objectContaining({code: 'AGENT_DISCONNECTED', details: expect.objectContaining({reason: 'no_agent_for_channel'})}))
    store.patch('osmoda', {channels: ['web', 'telegram']})
    expect(agentForChannel(store.get(), 'telegram').id).toBe('osmoda')
  })

  it('refuses writes when immutable and keeps the old snapshot on a bad hand edit', () => {
    const file = join(dir, 'agents.json')
    const frozen = openAgentsStore({file, mutable: false})
    expect(() => frozen.patch('osmoda', {enabled: false})).toThrow(expect.objectContaining({code: 'CONFIG_IMMUTABLE'}))
    const store = openAgentsStore({file, mutable: true})
    const before = store.get()
    writeFileSync(file, '{"version": 1, "agents": []}')
    expect(() => store.reload()).toThrow(expect.objectContaining({code: 'VALIDATION_FAILED'}))
    expect(store.get()).toBe(before)
    expect(readFileSync(file, 'utf8')).toContain('"agents": []')
  })
})
