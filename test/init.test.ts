import {readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {testEnv, type TestEnv} from './helpers/env.js'

let env: TestEnv

beforeEach(async () => {
  env = await testEnv({init: false})
})

afterEach(async () => {
  await env.cleanup()
})

const mode = (path: string) => statSync(path).mode & 0o777

describe('osmoda init', () => {
  it('creates dirs, tokens and identity with the right modes', async () => {
    const res = await env.cli(['init', '--json'])
    expect(res.exitCode, res.stderr).toBe(0)
    expect(res.json.result.instance_id).toMatch(/^[0-9a-f]{32}$/)
    expect(res.json.result.created).toEqual(expect.arrayContaining(['tokens/operator', 'tokens/agent', 'identity/ed25519.key', 'identity/noise_static.key', 'identity/identity.json']))
    expect(env.token('operator')).toMatch(/^osm_op_[A-Za-z0-9_-]{43}$/)
    expect(env.token('agent')).toMatch(/^osm_ag_[A-Za-z0-9_-]{43}$/)
    expect(mode(join(env.paths.tokensDir, 'operator'))).toBe(0o600)
    expect(mode(join(env.paths.tokensDir, 'agent'))).toBe(0o640)
    expect(mode(env.paths.tokensDir)).toBe(0o711)
    expect(mode(join(env.paths.identityDir, 'ed25519.key'))).toBe(0o600)
    expect(mode(join(env.paths.identityDir, 'identity.json'))).toBe(0o644)
    const identity = JSON.parse(readFileSync(join(env.paths.identityDir, 'identity.json'), 'utf8'))
    expect(identity.ledger_origin).toBe(`osmoda/${identity.instance_id}/ledger`)
  })

  it('is idempotent and never overwrites a key or token', async () => {
    await env.cli(['init'])
    const key = readFileSync(join(env.paths.identityDir, 'ed25519.key'), 'utf8')
    const token = env.token('operator')
    const again = await env.cli(['init', '--json'])
    expect(again.exitCode).toBe(0)
    expect(again.json.result.created).toEqual([])
    expect(readFileSync(join(env.paths.identityDir, 'ed25519.key'), 'utf8')).toBe(key)
    expect(env.token('operator')).toBe(token)
  })

  it('re-derives a token hash that no longer matches the token on disk', async () => {
    await env.cli(['init'])
    writeFileSync(join(env.paths.tokensDir, 'operator.sha256'), '0'.repeat(64))
    await env.cli(['init'])
    const agentd = await env.start('agentd')
    expect((await env.cli(['health', '--json'])).exitCode).toBe(0)
    await agentd.stopClean()
  })

  it('refuses an identity.json that does not belong to the Noise key', async () => {
    await env.cli(['init'])
    const file = join(env.paths.identityDir, 'identity.json')
    writeFileSync(file, readFileSync(file, 'utf8').replace(/"instance_id": "[0-9a-f]+"/, `"instance_id": "${'f'.repeat(32)}"`))
    const res = await env.cli(['init', '--json'])
    expect(res.exitCode).toBe(1)
    expect(res.json.error.code).toBe('CONFLICT')
  })
})
