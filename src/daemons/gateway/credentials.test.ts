import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {createIdGenerator} from '../../lib/ids.js'
import {ensureCredstoreKey, openCredentialStore, openCredentials, readCredstoreKey, sealCredentials, secretPreview} from './credentials.js'

let dir: string
const newId = () => createIdGenerator()('cred')
const SECRET = 'sk-ant-oat01-' + 'a'.repeat(40) + 'WXYZ'

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-cred-'))
})
afterEach(() => rmSync(dir, {recursive: true, force: true}))

describe('credential sealing', () => {
  it('round-trips with the right key and fails closed with any other', () => {
    const key = Buffer.alloc(32, 1)
    const sealed = sealCredentials(key, {version: 1, default_credential_id: null, credentials: []})
    expect(openCredentials(key, sealed)).toEqual({version: 1, default_credential_id: null, credentials: []})
    expect(() => openCredentials(Buffer.alloc(32, 2), sealed)).toThrow(expect.objectContaining({code: 'KEYSTORE_LOCKED'}))
    // A flipped ciphertext byte is caught by the GCM tag
    const box = JSON.parse(sealed)
    const ct = Buffer.from(box.ct, 'base64')
    ct[0] = (ct[0] as number) ^ 1
    expect(() => openCredentials(key, JSON.stringify({...box, ct: ct.toString('base64')}))).toThrow(expect.objectContaining({code: 'KEYSTORE_LOCKED'}))
  })

  it('uses a fresh nonce for every write', () => {
    const key = Buffer.alloc(32, 1)
    const a = JSON.parse(sealCredentials(key, {version: 1, default_credential_id: null, credentials: []}))
    const b = JSON.parse(sealCredentials(key, {version: 1, default_credential_id: null, credentials: []}))
    expect(a.nonce).not.toBe(b.nonce)
    expect(Buffer.from(a.nonce, 'base64')).toHaveLength(12)
  })

  it('previews first 12 + … + last 4', () => {
    expect(secretPreview(SECRET)).toBe('sk-ant-oat01…WXYZ')
  })
})

describe('credstore key', () => {
  it('is created only while no ciphertext exists and never inside the state dir', () => {
    const keyFile = join(dir, 'secrets-gateway.key')
    const enc = join(dir, 'state', 'credentials.json.enc')
    expect(ensureCredstoreKey(keyFile, enc)).toBe(true)
    expect(readCredstoreKey(keyFile, join(dir, 'state'))).toHaveLength(32)
    expect(() => readCredstoreKey(join(dir, 'state', 'k'), join(dir, 'state'))).toThrow(expect.objectContaining({code: 'KEYSTORE_LOCKED'}))
    writeFileSync(join(dir, 'enc'), 'x')
    expect(ensureCredstoreKey(join(dir, 'other.key'), join(dir, 'enc'))).toBe(false)
    writeFileSync(join(dir, 'bad.key'), 'short')
    expect(() => readCredstoreKey(join(dir, 'bad.key'), join(dir, 'state'))).toThrow(expect.objectContaining({code: 'KEYSTORE_LOCKED'}))
  })
})

describe('credential store', () => {
  it('keeps secrets out of views, moves the default on delete, refuses in-use deletes', () => {
    const file = join(dir, 'credentials.json.enc')
    const store = openCredentialStore({file, key: Buffer.alloc(32, 3), newId})
    const a = store.add({provider: 'anthropic', type: 'oauth', secret: SECRET})
    const b = store.add({provider: 'openai', type: 'api_key', secret: 'sk-proj-' + 'b'.repeat(30), label: 'second'})
    expect(JSON.stringify(store.list())).not.toContain(SECRET)
    expect(store.list().default_credential_id).toBe(a.id)
    expect(() => store.remove(a.id, ['osmoda'])).toThrow(expect.objectContaining({code: 'CREDENTIAL_IN_USE'}))
    store.remove(a.id, [])
    expect(store.list().default_credential_id).toBe(b.id)
    // And a reopened store reads the same, a wrong key reads nothing and writes nothing
    expect(openCredentialStore({file, key: Buffer.alloc(32, 3), newId}).list().credentials.map((c) => c.id)).toEqual([b.id])
    const before = readFileSync(file)
    const locked = openCredentialStore({file, key: Buffer.alloc(32, 4), newId})
    expect(locked.locked).toBe(true)
    expect(() => locked.add({provider: 'anthropic', type: 'oauth', secret: SECRET})).toThrow(expect.objectContaining({code: 'KEYSTORE_LOCKED'}))
    expect(readFileSync(file).equals(before)).toBe(true)
  })
})
