import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import Database from 'better-sqlite3'
import {describe, expect, it, onTestFinished} from 'vitest'
import {OsmodaError} from '../errors.js'
import {GENESIS_PREV_HASH, hashEvent} from './format.js'
import {openLedger, type Ledger} from './ledger.js'
import {REDACTED} from './redact.js'
import {verifyChain} from './verify.js'

/** A fresh directory for one test, removed when the test ends. */
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'osmoda-ledger-'))
  onTestFinished(() => rmSync(dir, {recursive: true, force: true}))
  return dir
}

const tempDb = () => join(tempDir(), 'ledger.db')

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return error instanceof OsmodaError ? error.code : `not an OsmodaError: ${String(error)}`
  }
  return undefined
}

function seed(ledger: Ledger): void {
  const rows: [string, string][] = [
    ['tool.called', 'agent:a'],
    ['tool.failed', 'agent:b'],
    ['wallet.signed', 'keyd'],
    ['tool.called', 'agent:b'],
    ['toolbox.opened', 'agent:a'],
    ['tool_x.called', 'agent:a'],
    ['tool.called', 'agent:a'],
  ]
  rows.forEach(([type, actor], i) => ledger.append({type, actor, payload: {i}}))
}

describe('openLedger append and head', () => {
  it('starts empty, then chains each event to the previous hash from genesis', () => {
    // Given a fresh ledger with a fixed clock
    const ledger = openLedger(tempDb(), {clock: () => Date.UTC(2026, 10, 25, 21, 30, 0, 123)})
    expect(ledger.head()).toBeNull()
    expect(ledger.size()).toBe(0)
    // When two events are appended
    const first = ledger.append({type: 'tool.called', actor: 'agentd', payload: {tool: 'shell_exec', ok: true}})
    const second = ledger.append({type: 'tool.called', actor: 'agentd', payload: {tool: 'x'}})
    // Then seqs start at 1, the first links to genesis and the second to the first
    expect(first).toMatchObject({seq: 1, ts: '2026-11-25T21:30:00.123Z', prev_hash: GENESIS_PREV_HASH, payload: {ok: true, tool: 'shell_exec'}})
    expect(first.hash).toBe(hashEvent({...first, payload: '{"ok":true,"tool":"shell_exec"}'}))
    expect(second).toMatchObject({seq: 2, prev_hash: first.hash})
    expect(ledger.head()).toEqual({seq: 2, hash: second.hash, ts: second.ts})
    expect(ledger.size()).toBe(2)
    // And the stored payload is the canonical text the hash covers
    const stored = ledger.db.prepare('SELECT payload FROM events WHERE seq = 1').pluck().get()
    expect(stored).toBe('{"ok":true,"tool":"shell_exec"}')
    expect(verifyChain(ledger.db).ok).toBe(true)
    ledger.close()
  })

  it('keeps ts monotonic when the clock goes backwards', () => {
    // Given a clock that jumps back an hour after the first event
    const times = [Date.UTC(2026, 0, 1, 12), Date.UTC(2026, 0, 1, 11), Date.UTC(2026, 0, 1, 12, 0, 0, 5)]
    let call = 0
    const ledger = openLedger(tempDb(), {clock: () => times[Math.min(call++, times.length - 1)] as number})
    // When three events are appended
    const ts = [1, 2, 3].map(() => ledger.append({type: 'clock.ticked', actor: 'test', payload: {}}).ts)
    // Then the second reuses the first's ts instead of going back, and the third moves forward
    expect(ts).toEqual(['2026-01-01T12:00:00.000Z', '2026-01-01T12:00:00.000Z', '2026-01-01T12:00:00.005Z'])
    ledger.close()
  })

  it('redacts secrets before hashing and storing', () => {
    const ledger = openLedger(tempDb())
    // When a payload with a secret member and an argv password is appended
    const event = ledger.append({type: 'host.command_run', actor: 'agentd', payload: {password: 'hunter2', argv: ['psql', '--password', 'pw'], token_id: 't1'}})
    // Then neither secret reaches the row
    expect(event.payload).toEqual({argv: ['psql', '--password', REDACTED], password: REDACTED, token_id: 't1'})
    const stored = ledger.db.prepare('SELECT payload FROM events').pluck().get() as string
    expect(stored).not.toContain('hunter2')
    expect(stored).not.toMatch(/"pw"/)
    ledger.close()
  })

  it.each([
    ['an invalid type', {type: 'Tool.Called', actor: 'a', payload: {}}, 'VALIDATION_FAILED'],
    ['a type without domain', {type: 'called', actor: 'a', payload: {}}, 'VALIDATION_FAILED'],
    ['an empty actor', {type: 'a.b', actor: '', payload: {}}, 'VALIDATION_FAILED'],
    ['a 129-character actor', {type: 'a.b', actor: 'x'.repeat(129), payload: {}}, 'VALIDATION_FAILED'],
    ['an actor with a newline', {type: 'a.b', actor: 'a\nb', payload: {}}, 'VALIDATION_FAILED'],
    ['an array payload', {type: 'a.b', actor: 'a', payload: [] as unknown as Record<string, unknown>}, 'VALIDATION_FAILED'],
    ['a null payload', {type: 'a.b', actor: 'a', payload: null as unknown as Record<string, unknown>}, 'VALIDATION_FAILED'],
    ['a NaN inside the payload', {type: 'a.b', actor: 'a', payload: {n: NaN}}, 'VALIDATION_FAILED'],
    ['a payload over 64 KiB', {type: 'a.b', actor: 'a', payload: {blob: 'x'.repeat(64 * 1024)}}, 'PAYLOAD_TOO_LARGE'],
  ])('refuses %s and writes nothing', (_name, input, code) => {
    const ledger = openLedger(tempDb())
    // When the bad append is attempted Then it fails with the stable code and the ledger stays empty
    expect(codeOf(() => ledger.append(input))).toBe(code)
    expect(ledger.size()).toBe(0)
    ledger.close()
  })

  it('accepts a payload of exactly 64 KiB canonical bytes, counting UTF-8 bytes', () => {
    const ledger = openLedger(tempDb())
    // Given '{"b":"…"}' is 8 bytes of framing and "é" is 2 bytes
    const exact = {b: 'é'.repeat((64 * 1024 - 8) / 2)}
    // When appended Then it fits, while one more byte does not
    expect(ledger.append({type: 'a.b', actor: 'a', payload: exact}).seq).toBe(1)
    expect(codeOf(() => ledger.append({type: 'a.b', actor: 'a', payload: {b: exact.b + 'x'}}))).toBe('PAYLOAD_TOO_LARGE')
    ledger.close()
  })

  it('refuses UPDATE and DELETE on events through the triggers', () => {
    const ledger = openLedger(tempDb())
    ledger.append({type: 'a.b', actor: 'a', payload: {}})
    // When a caller with the raw connection tries to rewrite or remove a row Then SQLite aborts
    expect(() => ledger.db.prepare("UPDATE events SET actor = 'x'").run()).toThrow(/append-only/)
    expect(() => ledger.db.prepare('DELETE FROM events').run()).toThrow(/append-only/)
    expect(ledger.query({limit: 10, order: 'asc'})[0]?.actor).toBe('a')
    ledger.close()
  })

  it('opens read-only without writing and refuses to append', () => {
    const path = tempDb()
    const writer = openLedger(path)
    writer.append({type: 'a.b', actor: 'a', payload: {}})
    writer.close()
    // When reopened read-only Then reads work and append is a bug
    const reader = openLedger(path, {readonly: true})
    expect(reader.size()).toBe(1)
    expect(codeOf(() => reader.append({type: 'a.b', actor: 'a', payload: {}}))).toBe('INTERNAL')
    reader.close()
    // And a database that is not a ledger is refused
    const other = join(tempDir(), 'other.db')
    new Database(other).close()
    expect(codeOf(() => openLedger(other, {readonly: true}))).toBe('VERIFICATION_FAILED')
  })
})

describe('query', () => {
  it.each([
    ['all, ascending', {limit: 100, order: 'asc' as const}, [1, 2, 3, 4, 5, 6, 7]],
    ['all, descending, limited', {limit: 3, order: 'desc' as const}, [7, 6, 5]],
    ['exact type', {type: 'tool.called', limit: 100, order: 'asc' as const}, [1, 4, 7]],
    ['domain prefix excludes toolbox.* and tool_x.*', {type: 'tool.*', limit: 100, order: 'asc' as const}, [1, 2, 4, 7]],
    ['prefix with underscore domain', {type: 'tool_x.*', limit: 100, order: 'asc' as const}, [6]],
    ['actor', {actor: 'agent:b', limit: 100, order: 'asc' as const}, [2, 4]],
    ['type and actor', {type: 'tool.called', actor: 'agent:a', limit: 100, order: 'desc' as const}, [7, 1]],
    ['after (exclusive)', {after: 4, limit: 100, order: 'asc' as const}, [5, 6, 7]],
    ['before (exclusive)', {before: 3, limit: 100, order: 'desc' as const}, [2, 1]],
    ['between', {after: 1, before: 7, type: 'tool.*', limit: 100, order: 'asc' as const}, [2, 4]],
    ['unknown type', {type: 'nothing.here', limit: 100, order: 'asc' as const}, []],
  ])('filters %s', (_name, q, want) => {
    // Given seven events of mixed types and actors
    const ledger = openLedger(tempDb())
    seed(ledger)
    // When queried Then exactly the matching seqs come back in the requested order
    const events = ledger.query(q)
    expect(events.map((e) => e.seq)).toEqual(want)
    for (const e of events) expect(e.payload).toEqual({i: e.seq - 1})
    ledger.close()
  })

  it.each([
    ['limit 0', {limit: 0, order: 'asc' as const}],
    ['fractional limit', {limit: 1.5, order: 'asc' as const}],
    ['negative after', {limit: 1, after: -1, order: 'asc' as const}],
    ['a bad type filter', {limit: 1, type: 'tool.%', order: 'asc' as const}],
    ['a wildcard event', {limit: 1, type: '*.called', order: 'asc' as const}],
    ['a bad order', {limit: 1, order: 'up' as 'asc'}],
  ])('refuses %s', (_name, q) => {
    const ledger = openLedger(tempDb())
    expect(codeOf(() => ledger.query(q))).toBe('VALIDATION_FAILED')
    ledger.close()
  })

  it('returns raw 32-byte event hashes for a seq range', () => {
    const ledger = openLedger(tempDb())
    seed(ledger)
    const hashes = ledger.eventHashes(2, 4)
    expect(hashes.map((h) => h.toString('hex'))).toEqual(ledger.query({after: 1, before: 5, limit: 10, order: 'asc'}).map((e) => e.hash))
    expect(hashes.every((h) => h.length === 32)).toBe(true)
    ledger.close()
  })
})

describe('checkpoints and cosignatures', () => {
  const root = (byte: number) => Buffer.alloc(32, byte).toString('base64')

  it('stores checkpoints idempotently and refuses another root for the same size', () => {
    const ledger = openLedger(tempDb())
    const cp = {size: 2, root_hash: root(1), ts: '2026-01-01T00:00:00.000Z', note: 'origin\n2\n…'}
    // When the same checkpoint is saved twice Then one row exists
    expect(ledger.saveCheckpoint(cp)).toEqual(cp)
    expect(ledger.saveCheckpoint({...cp, ts: '2026-01-02T00:00:00.000Z'})).toEqual(cp)
    // When a different root is saved for the same size Then it is a conflict
    expect(codeOf(() => ledger.saveCheckpoint({...cp, root_hash: root(2)}))).toBe('CONFLICT')
    expect(codeOf(() => ledger.saveCheckpoint({...cp, size: 3, root_hash: 'not base64'}))).toBe('VALIDATION_FAILED')
    ledger.saveCheckpoint({...cp, size: 5, root_hash: root(5)})
    ledger.saveCheckpoint({...cp, size: 9, root_hash: root(9)})
    expect(ledger.latestCheckpoint()?.size).toBe(9)
    expect(ledger.getCheckpoint(5)?.root_hash).toBe(root(5))
    expect(ledger.getCheckpoint(4)).toBeNull()
    expect(ledger.listCheckpoints({limit: 2}).map((c) => c.size)).toEqual([9, 5])
    expect(ledger.listCheckpoints({limit: 10, beforeSize: 5}).map((c) => c.size)).toEqual([2])
    ledger.close()
  })

  it('records one cosignature per witness and counts them', () => {
    const ledger = openLedger(tempDb())
    ledger.saveCheckpoint({size: 1, root_hash: root(1), ts: '2026-01-01T00:00:00.000Z', note: 'n'})
    const sig = {witness: 'peer-a', key_id: 'abcd', cosignature: 'c2ln', ts: '2026-01-01T00:00:01.000Z'}
    ledger.addCosignature(1, sig)
    ledger.addCosignature(1, sig)
    ledger.addCosignature(1, {...sig, witness: 'peer-b'})
    expect(ledger.cosignatureCount(1)).toBe(2)
    expect(ledger.cosignatures(1).map((c) => c.witness)).toEqual(['peer-a', 'peer-b'])
    expect(codeOf(() => ledger.addCosignature(1, {...sig, cosignature: 'b3RoZXI='}))).toBe('CONFLICT')
    expect(codeOf(() => ledger.addCosignature(7, sig))).toBe('NOT_FOUND')
    expect(ledger.cosignatureCount(7)).toBe(0)
    ledger.close()
  })
})
