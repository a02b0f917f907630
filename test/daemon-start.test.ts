import {spawnSync} from 'node:child_process'
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {BIN, testEnv, type TestEnv} from './helpers/env.js'

let env: TestEnv

beforeEach(async () => {
  env = await testEnv()
})

afterEach(async () => {
  await env.cleanup()
})

const daemon = (args: string[], extraEnv: Record<string, string> = {}) =>
  spawnSync(process.execPath, [BIN, 'daemon', ...args], {env: {...env.env, ...extraEnv}, encoding: 'utf8', timeout: 20_000})

describe('osmoda daemon start-up failures', () => {
  it('refuses a config with an unknown or mistyped key, naming the key path', () => {
    writeFileSync(join(env.paths.configDir, 'agentd.json'), JSON.stringify({ledger: {checkpointEverySecs: 'often'}, logLevl: 'info'}))
    const res = daemon(['agentd'])
    expect(res.status).toBe(2)
    expect(res.stderr).toMatch(/ledger\.checkpointEverySecs/)
    expect(res.stderr).toMatch(/logLevl/)
  })

  it('refuses a config file that is not JSON, and a --config that does not exist', () => {
    writeFileSync(join(env.paths.configDir, 'agentd.json'), '{"ledger": ')
    expect(daemon(['agentd']).stderr).toMatch(/not valid JSON/)
    const missing = daemon(['agentd', '--config', join(env.base, 'nope.json')])
    expect(missing.status).toBe(2)
    expect(missing.stderr).toMatch(/cannot read config/)
  })

  it('refuses a bad OSMODA_AGENTD_* override', () => {
    const res = daemon(['agentd'], {OSMODA_AGENTD_LEDGER: '{"checkpointEveryEvents": 0}'})
    expect(res.status).toBe(2)
    expect(res.stderr).toMatch(/checkpointEveryEvents/)
  })

  it('does not take over the socket of a running agentd', async () => {
    const first = await env.start('agentd')
    const second = daemon(['agentd'])
    expect(second.status).toBe(1)
    expect(second.stderr).toMatch(/already serving/)
    expect((await env.cli(['health', '--json'])).exitCode).toBe(0)
    await first.stopClean()
  })

  it('asks for osmoda init when the node identity is missing, and creates no new one', async () => {
    const fresh = await testEnv({init: false})
    try {
      const res = spawnSync(process.execPath, [BIN, 'daemon', 'agentd'], {env: fresh.env, encoding: 'utf8', timeout: 20_000})
      expect(res.status).not.toBe(0)
      expect(res.stderr).toMatch(/osmoda init/)
      expect(existsSync(join(fresh.paths.identityDir, 'ed25519.key'))).toBe(false)
    } finally {
      await fresh.cleanup()
    }
  })
})
