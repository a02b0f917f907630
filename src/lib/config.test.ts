import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {z} from 'zod'
import {loadDaemonConfig, upperSnake} from './config.js'

const Schema = z.strictObject({
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  port: z.number().int().default(1),
  ledger: z.strictObject({everySecs: z.number().int().default(60)}).prefault({}),
})

const dir = mkdtempSync(join(tmpdir(), 'osmoda-config-'))
const file = (name: string, text: string) => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

describe('loadDaemonConfig', () => {
  it('applies defaults when there is no file', () => {
    const {config, file: found} = loadDaemonConfig('demo', Schema, {file: join(dir, 'missing.json')})
    expect(config).toEqual({logLevel: 'info', port: 1, ledger: {everySecs: 60}})
    expect(found).toBeNull()
  })

  it('takes flag over env over file over default', () => {
    const path = file('a.json', JSON.stringify({port: 2, logLevel: 'warn'}))
    expect(loadDaemonConfig('demo', Schema, {file: path}).config.port).toBe(2)
    expect(loadDaemonConfig('demo', Schema, {file: path, env: {OSMODA_DEMO_PORT: '3'}}).config.port).toBe(3)
    expect(loadDaemonConfig('demo', Schema, {file: path, env: {OSMODA_DEMO_LOG_LEVEL: 'debug'}, flags: {logLevel: 'error'}}).config.logLevel).toBe('error')
    expect(loadDaemonConfig('demo', Schema, {file: path, env: {OSMODA_LOG_LEVEL: 'debug'}}).config.logLevel).toBe('debug')
  })

  it('fails with the key path on an unknown or mistyped key', () => {
    const path = file('bad.json', JSON.stringify({ledger: {everySecs: 'soon'}, prot: 1}))
    expect(() => loadDaemonConfig('demo', Schema, {file: path})).toThrow(/ledger\.everySecs/)
    expect(() => loadDaemonConfig('demo', Schema, {file: path})).toThrow(/prot/)
  })

  it('fails clearly on a file that is not JSON, or missing when required', () => {
    expect(() => loadDaemonConfig('demo', Schema, {file: file('x.json', '{port:')})).toThrow(/not valid JSON/)
    expect(() => loadDaemonConfig('demo', Schema, {file: join(dir, 'none.json'), fileRequired: true})).toThrow(/cannot read config/)
  })

  it('names env keys in upper snake case', () => {
    expect(upperSnake('checkpointEverySecs')).toBe('CHECKPOINT_EVERY_SECS')
  })
})
