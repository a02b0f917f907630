import Database from 'better-sqlite3'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {openDatabase} from '../src/lib/db/open.js'
import {canonicalJson} from '../src/lib/ledger/canonical-json.js'
import {GENESIS_PREV_HASH, formatTs, hashEvent} from '../src/lib/ledger/format.js'
import {openLedger} from '../src/lib/ledger/ledger.js'
import {verifyChain} from '../src/lib/ledger/verify.js'
import type * as Parallel from '../src/lib/ledger/verify-parallel.js'
import {ROOT} from './helpers/env.js'

const ROWS = 120_000
let dir: string
let parallel: typeof Parallel

/** A ledger of `ROWS` valid events, bulk-built in the real row format. */
function buildLedger(path: string): void {
  openLedger(path).close()
  const db = new Database(path)
  const insert = db.prepare('INSERT INTO events (seq, ts, type, actor, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)')
  const ts = formatTs(Date.UTC(2026, 10, 25))
  let prev = GENESIS_PREV_HASH
  db.transaction(() => {
    for (let seq = 1; seq <= ROWS; seq++) {
      const payload = canonicalJson({n: seq, note: 'ü'})
      const hash = hashEvent({prev_hash: prev, seq, ts, type: 'test.appended', actor: 'test', payload})
      insert.run(seq, ts, 'test.appended', 'test', payload, prev, hash)
      prev = hash
    }
  })()
  db.close()
}

beforeAll(async () => {
  // The worker thread runs compiled code: use the build that the global setup keeps fresh.
  parallel = (await import(join(ROOT, 'dist', 'lib', 'ledger', 'verify-parallel.js'))) as typeof Parallel
  dir = mkdtempSync(join(tmpdir(), 'osmoda-parallel-'))
  buildLedger(join(dir, 'ledger.db'))
})

afterAll(() => rmSync(dir, {recursive: true, force: true}))

describe('parallel chain verification', () => {
  it('agrees with a single pass on an intact ledger', async () => {
    const db = openDatabase(join(dir, 'ledger.db'), {readonly: true})
    const report = await parallel.verifyChainParallel(db, join(dir, 'ledger.db'), {workers: 3})
    expect(report).toEqual(verifyChain(db))
    expect(report).toMatchObject({ok: true, size: ROWS, head_seq: ROWS})
    db.close()
  })

  it('names exactly the rows a single pass names, including breaks at slice boundaries', async () => {
    // Given damage in every slice and right at the boundaries between them (3 workers: 40000 rows each)
    const path = join(dir, 'tampered.db')
    buildLedger(path)
    const db = new Database(path)
    for (const {name} of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all() as {name: string}[]) db.exec(`DROP TRIGGER "${name}"`)
    db.prepare("UPDATE events SET actor = 'mallory' WHERE seq IN (7, 40000, 80001)").run()
    db.prepare('DELETE FROM events WHERE seq IN (40001, 100000)').run()
    db.close()
    // When verified in parallel and in one pass
    const ro = openDatabase(path, {readonly: true})
    const report = await parallel.verifyChainParallel(ro, path, {workers: 3})
    const single = verifyChain(ro)
    ro.close()
    // Then both reports are the same
    expect(report).toEqual(single)
    expect(report.ok).toBe(false)
    expect(report.first_bad_seq).toBe(7)
    expect(report.breaks.map((b) => b.seq)).toEqual(expect.arrayContaining([7, 40000, 40002, 80001, 100001]))
  })
})
