import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import Database from 'better-sqlite3'
import {describe, expect, it, onTestFinished} from 'vitest'
import {OsmodaError} from '../errors.js'
import {GENESIS_PREV_HASH, hashEvent} from './format.js'
import {openLedger} from './ledger.js'
import {leafHash, merkleRoot} from './merkle.js'
import {MAX_REPORTED_BREAKS, verifyAgainstCheckpoint, verifyChain} from './verify.js'

const COLUMNS = ['ts', 'type', 'actor', 'payload', 'prev_hash', 'hash'] as const

/** A ledger of `count` events, closed; returns its path and a checkpoint of the full tree. */
function makeLedger(count: number): {path: string; checkpoint: {size: number; root_hash: string}} {
  const dir = mkdtempSync(join(tmpdir(), 'osmoda-verify-'))
  onTestFinished(() => rmSync(dir, {recursive: true, force: true}))
  const path = join(dir, 'ledger.db')
  const ledger = openLedger(path)
  for (let i = 0; i < count; i++) ledger.append({type: 'tool.called', actor: `agent:a${i % 3}`, payload: {i, note: 'zoë'}})
  const checkpoint = {size: count, root_hash: merkleRoot(ledger.eventHashes(1, count).map(leafHash)).toString('base64')}
  ledger.close()
  return {path, checkpoint}
}

/** A connection with the append-only triggers dropped: what an attacker with file access has. */
function tamper(path: string): Database.Database {
  const db = new Database(path)
  db.exec('DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete')
  return db
}

/** Replaces the character at `at` with a different one of the same class, so formats still hold. */
function flipChar(value: string, at: number): string {
  const c = value[at] as string
  const swap = /[0-9]/.test(c) ? (c === '1' ? '2' : '1') : /[a-f]/.test(c) ? (c === 'a' ? 'b' : 'a') : /[a-z]/.test(c) ? (c === 'x' ? 'y' : 'x') : c === 'A' ? 'B' : 'A'
  return value.slice(0, at) + swap + value.slice(at + 1)
}

const report = (path: string) => {
  const db = new Database(path, {readonly: true})
  try {
    return verifyChain(db)
  } finally {
    db.close()
  }
}

describe('verifyChain', () => {
  it('passes an untouched ledger and reports its head', () => {
    const {path} = makeLedger(20)
    const r = report(path)
    expect(r).toMatchObject({ok: true, size: 20, head_seq: 20, first_bad_seq: null, bad_count: 0, breaks: []})
    expect(r.head_hash).toMatch(/^[0-9a-f]{64}$/)
  })

  it.each(COLUMNS)('names the row whose %s had one character changed', (column) => {
    // Given a 10-event ledger and one character of one column of row 5 changed behind the triggers
    const {path} = makeLedger(10)
    const db = tamper(path)
    const original = db.prepare(`SELECT ${column} FROM events WHERE seq = 5`).pluck().get() as string
    const at = column === 'payload' ? original.indexOf(':') + 1 : column === 'ts' ? 22 : 3
    const altered = flipChar(original, at)
    expect(altered).not.toBe(original)
    db.prepare(`UPDATE events SET ${column} = ? WHERE seq = 5`).run(altered)
    db.close()
    // When the chain is verified
    const r = report(path)
    // Then it fails at row 5, says why, and keeps going past it
    expect(r.ok).toBe(false)
    expect(r.first_bad_seq).toBe(5)
    expect(r.bad_count).toBeGreaterThanOrEqual(1)
    expect(r.breaks.filter((b) => b.seq === 5).length).toBeGreaterThanOrEqual(1)
    expect(r.size).toBe(10)
    // A changed hash is also seen from the next row, whose prev_hash no longer links
    if (column === 'hash') expect(r.breaks).toContainEqual(expect.objectContaining({seq: 6, reason: 'prev_hash_mismatch'}))
    else expect(r.breaks.every((b) => b.seq === 5)).toBe(true)
  })

  it.each([
    ['an uppercase hash', 'hash', (v: string) => v.toUpperCase()],
    ['a ts without milliseconds', 'ts', (v: string) => v.replace(/\.\d{3}Z$/, 'Z')],
    ['a payload with whitespace', 'payload', (v: string) => v.replace(':', ': ')],
    ['a payload with unsorted keys', 'payload', (v: string) => JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(v) as object).reverse()))],
    ['a payload that is an array', 'payload', () => '[1]'],
    ['a type outside the pattern', 'type', () => 'Tool.Called'],
    ['an empty actor', 'actor', () => ''],
  ])('reports %s as malformed', (_name, column, alter) => {
    const {path} = makeLedger(6)
    const db = tamper(path)
    const original = db.prepare(`SELECT ${column} FROM events WHERE seq = 3`).pluck().get() as string
    db.prepare(`UPDATE events SET ${column} = ? WHERE seq = 3`).run(alter(original))
    db.close()
    const r = report(path)
    expect(r.breaks).toContainEqual(expect.objectContaining({seq: 3, reason: 'malformed'}))
    expect(r.first_bad_seq).toBe(3)
  })

  it('names the gap when a middle row is deleted', () => {
    // Given row 5 of 10 deleted
    const {path} = makeLedger(10)
    const db = tamper(path)
    db.prepare('DELETE FROM events WHERE seq = 5').run()
    db.close()
    // When verified Then row 6 reports the missing seq and the broken link, nothing else
    const r = report(path)
    expect(r.ok).toBe(false)
    expect(r.breaks).toEqual([
      expect.objectContaining({seq: 6, reason: 'seq_gap', detail: 'seq 5 is missing'}),
      expect.objectContaining({seq: 6, reason: 'prev_hash_mismatch'}),
    ])
    expect(r.bad_count).toBe(1)
    expect(r.size).toBe(9)
  })

  it('names both rows when two rows swap contents', () => {
    // Given rows 4 and 7 exchanging every column but seq
    const {path} = makeLedger(10)
    const db = tamper(path)
    const get = db.prepare('SELECT ts, type, actor, payload, prev_hash, hash FROM events WHERE seq = ?')
    const four = get.get(4) as Record<string, string>
    const seven = get.get(7) as Record<string, string>
    const put = db.prepare('UPDATE events SET ts = @ts, type = @type, actor = @actor, payload = @payload, prev_hash = @prev_hash, hash = @hash WHERE seq = @seq')
    put.run({...seven, seq: 4})
    put.run({...four, seq: 7})
    db.close()
    // When verified Then both swapped rows are named
    const bad = new Set(report(path).breaks.map((b) => b.seq))
    expect(bad.has(4)).toBe(true)
    expect(bad.has(7)).toBe(true)
  })

  it('reports every bad row but caps the list of breaks', () => {
    // Given 1,200 events whose payloads were all rewritten
    const count = MAX_REPORTED_BREAKS + 200
    const {path} = makeLedger(count)
    const db = tamper(path)
    db.prepare(`UPDATE events SET payload = '{"i":-1}'`).run()
    db.close()
    // When verified Then all rows count as bad, the list stops at the cap
    const r = report(path)
    expect(r.bad_count).toBe(count)
    expect(r.breaks).toHaveLength(MAX_REPORTED_BREAKS)
    expect(r.first_bad_seq).toBe(1)
  })

  it('verifies a seq range, linking its first row to the row before it', () => {
    const {path} = makeLedger(30)
    const db = tamper(path)
    db.prepare(`UPDATE events SET actor = 'mallory' WHERE seq = 3`).run()
    const progress: number[] = []
    // When rows 10..20 are verified Then the tampered row 3 is outside and the range passes
    expect(verifyChain(db, {from: 10, to: 20, onProgress: (seq) => progress.push(seq)})).toMatchObject({ok: true, size: 11, head_seq: 20})
    expect(progress.at(-1)).toBe(20)
    expect(verifyChain(db, {from: 2, to: 4})).toMatchObject({ok: false, first_bad_seq: 3})
    // And a range whose predecessor row is gone reports the gap
    db.prepare('DELETE FROM events WHERE seq = 9').run()
    expect(verifyChain(db, {from: 10})).toMatchObject({ok: false, first_bad_seq: 10})
    db.close()
  })

  it('refuses a database that is not a ledger', () => {
    const db = new Database(':memory:')
    expect(() => verifyChain(db)).toThrow(OsmodaError)
  })
})

describe('verifyAgainstCheckpoint', () => {
  it('matches the checkpoint of an intact ledger, and of any earlier size', () => {
    const {path, checkpoint} = makeLedger(13)
    const db = new Database(path, {readonly: true})
    expect(verifyAgainstCheckpoint(db, checkpoint)).toEqual({ok: true})
    expect(verifyAgainstCheckpoint(db, {size: 0, root_hash: merkleRoot([]).toString('base64')})).toEqual({ok: true})
    db.close()
  })

  it('passes the chain but reports truncated when the last rows were deleted', () => {
    // Given a checkpoint kept off-host, then the last three rows deleted
    const {path, checkpoint} = makeLedger(10)
    const db = tamper(path)
    db.prepare('DELETE FROM events WHERE seq > 7').run()
    // When checked Then the chain alone looks fine but the checkpoint exposes the truncation
    expect(verifyChain(db).ok).toBe(true)
    expect(verifyAgainstCheckpoint(db, checkpoint)).toMatchObject({ok: false, reason: 'truncated'})
    db.close()
  })

  it('passes the chain but reports root_mismatch when the whole table was re-chained', () => {
    // Given a checkpoint, then every row rewritten with another payload and all hashes recomputed
    const {path, checkpoint} = makeLedger(10)
    const db = tamper(path)
    const rows = db.prepare('SELECT seq, ts, type, actor FROM events ORDER BY seq').all() as {seq: number; ts: string; type: string; actor: string}[]
    db.prepare('DELETE FROM events').run()
    const insert = db.prepare('INSERT INTO events (seq, ts, type, actor, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)')
    let prev = GENESIS_PREV_HASH
    for (const row of rows) {
      const payload = `{"i":${row.seq},"rewritten":true}`
      const hash = hashEvent({...row, payload, prev_hash: prev})
      insert.run(row.seq, row.ts, row.type, row.actor, payload, prev, hash)
      prev = hash
    }
    // When checked Then the forged chain is self-consistent but not the tree that was signed
    expect(verifyChain(db).ok).toBe(true)
    expect(verifyAgainstCheckpoint(db, checkpoint)).toMatchObject({ok: false, reason: 'root_mismatch'})
    db.close()
  })
})
