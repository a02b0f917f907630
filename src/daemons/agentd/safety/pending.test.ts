import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {migrate, openDatabase, type Db} from '../../../lib/db/open.js'
import {AGENTD_MIGRATIONS} from '../store.js'
import {countPendingApprovals} from './pending.js'

let dir: string
let db: Db

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'osmoda-pending-'))
  db = openDatabase(join(dir, 'agentd.db'))
  migrate(db, AGENTD_MIGRATIONS)
})

afterEach(async () => {
  db.close()
  await rm(dir, {recursive: true, force: true})
})

function insert(id: string, status: string, expiresMs: number): void {
  db.prepare(
    `INSERT INTO approvals (id, operation, daemon, method, path, body, digest, summary, actor, status, created_at, expires_at, expires_ms)
     VALUES (?, 'safety_panic', 'agentd', 'POST', '/safety/panic', '{}', ?, 's', 'agent:ops', ?, '2026-01-01T00:00:00.000Z', '2026-01-01T00:10:00.000Z', ?)`,
  ).run(id, 'a'.repeat(64), status, expiresMs)
}

describe('countPendingApprovals', () => {
  it('counts pending approvals that have not expired yet', () => {
    // Given two live pending approvals, one pending past its expiry, and decided ones
    insert('apr_1', 'pending', 2000)
    insert('apr_2', 'pending', 5000)
    insert('apr_3', 'pending', 1000)
    insert('apr_4', 'approved', 9000)
    insert('apr_5', 'denied', 9000)
    // Then at t=1000 only the two live ones count (expiry is exclusive), and later fewer
    expect(countPendingApprovals(db, 1000)).toBe(2)
    expect(countPendingApprovals(db, 2000)).toBe(1)
    expect(countPendingApprovals(db, 6000)).toBe(0)
  })
})
