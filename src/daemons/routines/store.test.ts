import {generateKeyPairSync, randomBytes} from 'node:crypto'
import Database from 'better-sqlite3'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {createSecretBox, routinesSecretKey} from './secret-box.js'
import {openRoutinesStore} from './store.js'

const BOX = createSecretBox(randomBytes(32))

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-routines-store-'))
})
afterEach(() => rmSync(dir, {recursive: true, force: true}))

const runId = (n: number) => `run_01J${String(n).padStart(23, '0')}`

describe('routines.db', () => {
  it('keeps the last historyPerRoutine runs per routine, counts runs, and survives reopening', () => {
    // Given 5 finished runs of one routine and 1 of another, keeping 3 per routine
    const file = join(dir, 'routines.db')
    const store = openRoutinesStore(file, BOX)
    for (let n = 1; n <= 5; n++) {
      store.startRun({id: runId(n), routineId: 'a', trigger: 'interval', startedAt: `2026-11-26T12:0${n}:00.000Z`, eventSeq: null})
      store.finishRun(runId(n), 'a', {endedAt: `2026-11-26T12:0${n}:01.000Z`, status: n === 5 ? 'error' : 'ok', output: `run ${n}`, error: n === 5 ? 'boom' : null}, 3)
    }
    store.recordSkipped({id: runId(6), routineId: 'b', trigger: 'event', at: '2026-11-26T12:06:00.000Z', reason: 'overlap', eventSeq: 42}, 3)
    store.close()
    // When it is reopened
    const again = openRoutinesStore(file, BOX)
    // Then the newest 3 runs of a are kept, the counters hold all 5, and b's skipped run does not count
    expect(again.listRuns({routineId: 'a', limit: 10}).map((r) => r.output)).toEqual(['run 5', 'run 4', 'run 3'])
    expect(again.state('a')).toEqual({last_run_at: '2026-11-26T12:05:00.000Z', last_status: 'error', run_count: 5})
    expect(again.state('b')).toEqual({last_run_at: null, last_status: null, run_count: 0})
    expect(again.listRuns({status: 'skipped', limit: 10})).toMatchObject([{routine_id: 'b', event_seq: 42, error: 'overlap'}])
    // Paging: newest first, cursor exclusive
    expect(again.listRuns({limit: 2, before: runId(5)}).map((r) => r.id)).toEqual([runId(4), runId(3)])
    again.close()
  })

  it('marks runs left running by a stop as interrupted errors', () => {
    const store = openRoutinesStore(join(dir, 'routines.db'), BOX)
    store.startRun({id: runId(1), routineId: 'a', trigger: 'manual', startedAt: '2026-11-26T12:00:00.000Z', eventSeq: null})
    expect(store.markInterrupted('2026-11-26T12:01:00.000Z')).toBe(1)
    expect(store.getRun(runId(1))).toMatchObject({status: 'error', ended_at: '2026-11-26T12:01:00.000Z', error: expect.stringMatching(/^interrupted/)})
    store.close()
  })

  it('forgets a removed routine\'s memories and secrets, not another routine\'s', () => {
    const store = openRoutinesStore(join(dir, 'routines.db'), BOX)
    store.set('routine:a:port_baseline', '[]')
    store.set('routine:a_b:port_baseline', '[1]')
    store.setSecret('a', 'webhook_trigger', 'x')
    store.forget('a')
    expect(store.get('routine:a:port_baseline')).toBeNull()
    expect(store.get('routine:a_b:port_baseline')).toBe('[1]')
    expect(store.secret('a', 'webhook_trigger')).toBeNull()
    store.close()
  })

  it('seals secrets with the node-derived key: not readable in the file, bound to their routine, refused under another key', () => {
    const file = join(dir, 'routines.db')
    const key = routinesSecretKey(generateKeyPairSync('ed25519').privateKey)
    const store = openRoutinesStore(file, createSecretBox(key))
    store.setSecret('rtn_a', 'webhook_headers', '{"Authorization":"Bearer top-secret"}')
    expect(store.secret('rtn_a', 'webhook_headers')).toBe('{"Authorization":"Bearer top-secret"}')
    store.close()
    // The raw row holds no plaintext
    const raw = new Database(file, {readonly: true})
    const row = raw.prepare('SELECT value FROM secrets').get() as {value: string}
    raw.close()
    expect(row.value).toMatch(/^v1:/)
    expect(row.value).not.toContain('top-secret')
    // A row moved to another routine, or read with another node's key, does not open
    const moved = new Database(file)
    moved.prepare("UPDATE secrets SET routine_id = 'rtn_b'").run()
    moved.close()
    const again = openRoutinesStore(file, createSecretBox(key))
    expect(() => again.secret('rtn_b', 'webhook_headers')).toThrow(expect.objectContaining({code: 'KEYSTORE_LOCKED'}))
    again.close()
    const other = openRoutinesStore(file, createSecretBox(randomBytes(32)))
    expect(() => other.secret('rtn_b', 'webhook_headers')).toThrow(expect.objectContaining({code: 'KEYSTORE_LOCKED'}))
    other.close()
  })
})
