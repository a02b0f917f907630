import {generateKeyPairSync} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {verifyCheckpointNote} from '../../lib/ledger/checkpoint.js'
import {openLedger, type Ledger} from '../../lib/ledger/ledger.js'
import {leafHash, merkleRoot} from '../../lib/ledger/merkle.js'
import {silentLogger} from '../../lib/log.js'
import {createLedgerMonitor} from './ledger-monitor.js'

let dir: string
let ledger: Ledger
const keys = generateKeyPairSync('ed25519')
const ORIGIN = 'osmoda/test/ledger'

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-monitor-'))
  ledger = openLedger(join(dir, 'ledger.db'))
})

afterEach(() => {
  ledger.close()
  rmSync(dir, {recursive: true, force: true})
})

const monitor = (now = () => Date.now(), everyEvents = 256, everySecs = 60) =>
  createLedgerMonitor({ledger, log: silentLogger, signingKey: keys.privateKey, origin: ORIGIN, everyEvents, everySecs, now})

const fill = (n: number) => {
  for (let i = 0; i < n; i++) ledger.append({type: 'test.appended', actor: 'test', payload: {i}})
}

async function settle(m: ReturnType<typeof monitor>) {
  const controller = new AbortController()
  m.start(controller.signal)
  // The first tick runs on setImmediate; later ones follow right away while a pass is unfinished.
  await new Promise((r) => setTimeout(r, 20))
  for (let i = 0; i < 100 && m.status().verified_through_seq < ledger.size(); i++) await new Promise((r) => setTimeout(r, 20))
  controller.abort()
}

describe('ledger monitor', () => {
  it('signs a checkpoint whose root equals the RFC 9162 root of all event hashes, across several sizes', () => {
    const m = monitor()
    for (const n of [1, 2, 5, 64, 100]) {
      fill(n)
      const checkpoint = m.checkpointNow()
      const expected = merkleRoot(ledger.eventHashes(1, ledger.size()).map(leafHash))
      expect(checkpoint.size).toBe(ledger.size())
      expect(checkpoint.root_hash).toBe(expected.toString('base64'))
      expect(verifyCheckpointNote(checkpoint.note, keys.publicKey, ORIGIN).size).toBe(ledger.size())
    }
  })

  it('verifies the whole chain in the background and signs when enough events arrive', async () => {
    fill(300)
    const m = monitor(() => Date.now(), 256)
    await settle(m)
    expect(m.status()).toMatchObject({state: 'ok', verified_through_seq: 300, first_bad_seq: null, bad_count: 0})
    expect(ledger.latestCheckpoint()?.size).toBe(300)
  })

  it('signs after everySecs when there are new events, and not when there are none', async () => {
    let clock = 1_000_000
    const m = monitor(() => clock, 1000, 60)
    fill(3)
    await settle(m)
    expect(ledger.latestCheckpoint()).toBeNull()
    clock += 61_000
    await settle(m)
    expect(ledger.latestCheckpoint()?.size).toBe(3)
    clock += 61_000
    await settle(m)
    expect(ledger.listCheckpoints({limit: 10})).toHaveLength(1)
  })

  it('flags a broken chain once: ledger.integrity_failed and a critical notification', async () => {
    fill(10)
    for (const {name} of ledger.db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all() as {name: string}[]) ledger.db.exec(`DROP TRIGGER "${name}"`)
    ledger.db.prepare("UPDATE events SET actor = 'mallory' WHERE seq = 4").run()
    const m = monitor()
    await settle(m)
    await settle(m)
    expect(m.status()).toMatchObject({state: 'failed', first_bad_seq: 4})
    const failures = ledger.query({type: 'ledger.integrity_failed', limit: 10, order: 'asc'})
    expect(failures).toHaveLength(1)
    expect(failures[0]?.payload).toMatchObject({first_bad_seq: 4})
    expect(ledger.query({type: 'notification.requested', limit: 10, order: 'asc'})[0]?.payload).toMatchObject({severity: 'critical', source: 'agentd'})
  })

  it('refuses a second queued verification while one is pending', () => {
    const m = monitor()
    m.requestVerify(1)
    expect(() => m.requestVerify(1)).toThrow(/already queued/)
  })
})
