import {afterEach, describe, expect, it} from 'vitest'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createPolicyHolder} from './policy-file.js'
import {DEFAULT_POLICY, type Policy} from './policy.js'

const dirs: string[] = []
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'osmoda-policy-'))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true})
})
const one: Policy = {version: 1, default_effect: 'deny', rules: [{id: 'a', effect: 'allow', actions: ['sign'], scope: 'wallet'}]}

describe('policy file', () => {
  it('seeds the default policy when absent and applies a new one atomically', () => {
    const file = join(temp(), 'policy.json')
    const holder = createPolicyHolder({file, mutable: true, seed: undefined})
    expect(holder.get().policy).toEqual(DEFAULT_POLICY)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(DEFAULT_POLICY)
    const before = holder.get().sha256
    const set = holder.set(one)
    expect(set.sha256).not.toBe(before)
    expect(createPolicyHolder({file, mutable: true, seed: undefined}).get()).toEqual(set)
  })

  it('fails closed on a corrupt or invalid file and recovers on reload, never rewriting it', () => {
    const file = join(temp(), 'policy.json')
    writeFileSync(file, '{"version": 1, ')
    const holder = createPolicyHolder({file, mutable: true, seed: undefined})
    expect(() => holder.get()).toThrow(expect.objectContaining({code: 'NOT_READY'}))
    expect(holder.problem()).toMatch(/not valid JSON/)
    expect(readFileSync(file, 'utf8')).toBe('{"version": 1, ')
    writeFileSync(file, JSON.stringify({...one, default_effect: 'allow'}))
    holder.reload()
    expect(holder.problem()).toMatch(/invalid/)
    writeFileSync(file, JSON.stringify(one))
    holder.reload()
    expect(holder.get().policy).toEqual(one)
  })

  it('an immutable (Nix-managed) policy is read, never seeded, and PUT is CONFIG_IMMUTABLE', () => {
    const file = join(temp(), 'keyd-policy.json')
    const missing = createPolicyHolder({file, mutable: false, seed: undefined})
    expect(() => missing.get()).toThrow(expect.objectContaining({code: 'NOT_READY'}))
    writeFileSync(file, JSON.stringify(one))
    const holder = createPolicyHolder({file, mutable: false, seed: undefined})
    expect(holder.get().policy).toEqual(one)
    expect(() => holder.set(DEFAULT_POLICY)).toThrow(expect.objectContaining({code: 'CONFIG_IMMUTABLE'}))
  })
})
