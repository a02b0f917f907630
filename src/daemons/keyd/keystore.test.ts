import {afterEach, describe, expect, it} from 'vitest'
import {chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {randomBytes} from 'node:crypto'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathsFrom} from '../../lib/paths.js'
import {createKeystore, readKek, resolveKekFile} from './keystore.js'

const dirs: string[] = []
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'osmoda-kek-'))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true})
})

describe('KEK', () => {
  it('resolves the configured file, then the systemd credential, then <config>/secrets/keyd.kek', () => {
    const base = temp()
    const paths = pathsFrom({runDir: join(base, 'run'), stateDir: join(base, 'state'), configDir: join(base, 'config')})
    expect(resolveKekFile(paths, '/etc/osmoda/kek', {CREDENTIALS_DIRECTORY: base})).toBe('/etc/osmoda/kek')
    expect(resolveKekFile(paths, undefined, {})).toBe(join(base, 'config', 'secrets', 'keyd.kek'))
    expect(resolveKekFile(paths, undefined, {CREDENTIALS_DIRECTORY: base})).toBe(join(base, 'keyd.kek'))
    writeFileSync(join(base, 'kek'), randomBytes(32))
    expect(resolveKekFile(paths, undefined, {CREDENTIALS_DIRECTORY: base})).toBe(join(base, 'kek'))
  })

  it('accepts 32 raw bytes or 64 hex digits and nothing else', () => {
    const dir = temp()
    const state = join(dir, 'state')
    const file = join(dir, 'kek')
    const key = randomBytes(32)
    writeFileSync(file, key, {mode: 0o600})
    expect(readKek(file, state)?.equals(key)).toBe(true)
    writeFileSync(file, `${key.toString('hex')}\n`)
    expect(readKek(file, state)?.equals(key)).toBe(true)
    writeFileSync(file, randomBytes(31))
    expect(() => readKek(file, state)).toThrow(expect.objectContaining({code: 'KEYSTORE_LOCKED'}))
    expect(readKek(join(dir, 'missing'), state)).toBeNull()
  })

  it('refuses a KEK inside the state directory or readable by others', () => {
    const dir = temp()
    const state = join(dir, 'state')
    mkdirSync(state)
    writeFileSync(join(state, 'keyd.kek'), randomBytes(32), {mode: 0o600})
    expect(() => readKek(join(state, 'keyd.kek'), state)).toThrow(/inside the state directory/)
    const open = join(dir, 'kek')
    writeFileSync(open, randomBytes(32))
    chmodSync(open, 0o644)
    expect(() => readKek(open, state)).toThrow(expect.objectContaining({code: 'KEYSTORE_LOCKED'}))
  })

  it('a keystore without KEK is locked; with one it round-trips and binds the owner', () => {
    const dir = temp()
    const locked = createKeystore({dir, kek: null, kekFile: '/k'})
    expect(locked.unlocked).toBe(false)
    expect(() => locked.requireUnlocked()).toThrow(expect.objectContaining({code: 'KEYSTORE_LOCKED'}))
    const ks = createKeystore({dir, kek: randomBytes(32), kekFile: '/k'})
    const owner = {wallet_id: 'wal_01JDX8Q4S1T6V0W7Y2Z3A4B5C6', chain: 'ethereum', address: '0xabc'}
    const secret = randomBytes(32)
    ks.store(owner, secret)
    let seen: Buffer | null = null
    ks.withKey(owner, (s) => void (seen = Buffer.from(s)))
    expect(seen!.equals(secret)).toBe(true)
    expect(() => ks.withKey({...owner, address: '0xabd'}, () => undefined)).toThrow(expect.objectContaining({code: 'KEYSTORE_LOCKED'}))
    expect(() => ks.store(owner, secret)).toThrow()
    expect(ks.listFiles()).toEqual([owner.wallet_id])
    ks.destroy(owner.wallet_id)
    expect(ks.listFiles()).toEqual([])
  })
})
