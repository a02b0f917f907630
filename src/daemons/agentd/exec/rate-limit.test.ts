import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {migrate, openDatabase, type Db} from '../../../lib/db/open.js'
import type {OsmodaError} from '../../../lib/errors.js'
import {AGENTD_MIGRATIONS} from '../store.js'
import {createExecRateLimiter} from './rate-limit.js'

let dir: string
let db: Db
let clock: number

const errorOf = (fn: () => void): OsmodaError | null => {
  try {
    fn()
  } catch (error) {
    return error as OsmodaError
  }
  return null
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-rate-'))
  db = openDatabase(join(dir, 'agentd.db'))
  migrate(db, AGENTD_MIGRATIONS)
  clock = 1_000_000
})

afterEach(() => {
  db.close()
  rmSync(dir, {recursive: true, force: true})
})

describe('exec rate limiter', () => {
  const limit = {calls: 3, windowSecs: 60}

  it('allows `calls` per sliding window, then 429 with retry_after_secs until the oldest call leaves the window', () => {
    // Given three calls 10 s apart
    const limiter = createExecRateLimiter(db, () => clock)
    for (let i = 0; i < 3; i++) {
      limiter.take('ops', limit)
      clock += 10_000
    }
    // When a fourth comes 30 s after the first / Then it is refused, told to wait the 30 s left
    const refused = errorOf(() => limiter.take('ops', limit))
    expect(refused).toMatchObject({code: 'RATE_LIMITED', details: {retry_after_secs: 30}})
    expect(refused?.httpStatus).toBe(429)
    // And a refused call does not count: once the first call is 60 s old there is room again
    clock = 1_000_000 + 60_000
    expect(errorOf(() => limiter.take('ops', limit))).toBeNull()
    expect(errorOf(() => limiter.take('ops', limit))?.code).toBe('RATE_LIMITED')
  })

  it('counts each agent separately', () => {
    const limiter = createExecRateLimiter(db, () => clock)
    for (let i = 0; i < 3; i++) limiter.take('ops', limit)
    expect(errorOf(() => limiter.take('ops', limit))?.code).toBe('RATE_LIMITED')
    expect(errorOf(() => limiter.take('builder', limit))).toBeNull()
  })

  it('persists the window across restarts (a new limiter over the same database)', () => {
    // Given a full window written by one agentd
    const first = createExecRateLimiter(db, () => clock)
    for (let i = 0; i < 3; i++) first.take('ops', limit)
    db.close()
    // When agentd restarts and opens the same file
    db = openDatabase(join(dir, 'agentd.db'))
    const second = createExecRateLimiter(db, () => clock + 5000)
    // Then the agent is still limited
    expect(errorOf(() => second.take('ops', limit))).toMatchObject({code: 'RATE_LIMITED', details: {retry_after_secs: 55}})
  })

  it('prunes calls that left the window', () => {
    const limiter = createExecRateLimiter(db, () => clock)
    for (let i = 0; i < 3; i++) limiter.take('ops', limit)
    clock += 61_000
    limiter.take('ops', limit)
    expect(db.prepare("SELECT count(*) FROM exec_rate WHERE agent_id = 'ops'").pluck().get()).toBe(1)
  })
})
