import Database from 'better-sqlite3'
import {copyFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {GENESIS_PREV_HASH, hashEvent} from '../src/lib/ledger/format.js'
import {testEnv, type TestEnv} from './helpers/env.js'

let env: TestEnv
let checkpointFile: string
let checkpointSize: number

beforeAll(async () => {
  // Given a ledger written by a real agentd, with a checkpoint exported off-host, and agentd stopped
  env = await testEnv()
  const agentd = await env.start('agentd')
  const client = env.client('agentd', agentdApi, 'agent', {'x-osmoda-agent-id': 'tamper'})
  for (let i = 0; i < 20; i++) await client.toolCalls({tool: 'event_log', toolset: 'agentd', args_sha256: 'c'.repeat(64), outcome: 'ok', duration_ms: i, session_id: `ü-${i}`})
  checkpointFile = join(env.base, 'kept.note')
  const exported = await env.cli(['ledger', 'checkpoint', '--now', '--out', checkpointFile, '--json'])
  expect(exported.exitCode, exported.stderr).toBe(0)
  checkpointSize = exported.json.result.size
  await agentd.stopClean()
})

afterAll(async () => {
  await env?.cleanup()
})

/** A copy of the ledger, altered through a connection that has dropped the append-only triggers. */
function tampered(name: string, alter: (db: Database.Database) => void): string {
  const copy = join(env.base, `${name}.db`)
  copyFileSync(env.paths.ledgerDb, copy)
  const db = new Database(copy)
  for (const {name: trigger} of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all() as {name: string}[]) db.exec(`DROP TRIGGER "${trigger}"`)
  alter(db)
  db.close()
  return copy
}

function flipByte(value: string, index = 0): string {
  const c = value[index] ?? 'a'
  const replacement = c === '0' ? '1' : c === 'a' ? 'b' : c === '{' ? '[' : c === '2' ? '3' : 'a'
  return value.slice(0, index) + replacement + value.slice(index + 1)
}

const verify = (db: string, extra: string[] = []) => env.cli(['verify-ledger', '--db', db, '--json', ...extra])

describe('osmoda verify-ledger', () => {
  it('passes an intact ledger with agentd stopped, naming head seq and hash', async () => {
    const res = await verify(env.paths.ledgerDb, ['--checkpoint', checkpointFile])
    expect(res.exitCode, res.stderr).toBe(0)
    expect(res.json.result).toMatchObject({ok: true, bad_count: 0, first_bad_seq: null, checkpoints: [{ok: true, size: checkpointSize}]})
    expect(res.json.result.head_hash).toMatch(/^[0-9a-f]{64}$/)
  })

  it.each(['ts', 'type', 'actor', 'payload', 'prev_hash', 'hash'])('exits 5 naming the row when one byte of %s changes', async (column) => {
    const db = tampered(`byte-${column}`, (d) => {
      const row = d.prepare(`SELECT ${column} AS v FROM events WHERE seq = 7`).get() as {v: string}
      d.prepare(`UPDATE events SET ${column} = ? WHERE seq = 7`).run(flipByte(row.v, column === 'payload' ? 2 : 5))
    })
    const res = await verify(db)
    expect(res.exitCode).toBe(5)
    expect(res.json.error.code).toBe('VERIFICATION_FAILED')
    // Changing a stored hash also breaks the next row's link, so 7 is the first bad row either way.
    expect(res.json.error.details).toMatchObject({ok: false, first_bad_seq: 7})
    expect(res.json.error.details.bad_count).toBeGreaterThanOrEqual(1)
    expect(res.json.error.message).toMatch(/seq 7/)
  })

  it('exits 5 naming the gap when a middle row is deleted', async () => {
    const db = tampered('deleted', (d) => d.prepare('DELETE FROM events WHERE seq = 9').run())
    const res = await verify(db)
    expect(res.exitCode).toBe(5)
    expect(res.json.error.details.first_bad_seq).toBe(10)
    expect(res.json.error.details.breaks.map((b: {seq: number}) => b.seq)).toContain(10)
  })

  it('exits 5 naming both rows when two rows are swapped', async () => {
    const db = tampered('swapped', (d) => {
      const cols = 'ts, type, actor, payload, prev_hash, hash'
      const a = d.prepare(`SELECT ${cols} FROM events WHERE seq = 5`).get() as Record<string, string>
      const b = d.prepare(`SELECT ${cols} FROM events WHERE seq = 6`).get() as Record<string, string>
      const set = d.prepare('UPDATE events SET ts = @ts, type = @type, actor = @actor, payload = @payload, prev_hash = @prev_hash, hash = @hash WHERE seq = @seq')
      set.run({...b, seq: 5})
      set.run({...a, seq: 6})
    })
    const res = await verify(db)
    expect(res.exitCode).toBe(5)
    const bad = res.json.error.details.breaks.map((b: {seq: number}) => b.seq)
    expect(bad).toEqual(expect.arrayContaining([5, 6]))
  })

  it('exits 5 for a deleted tail only when a checkpoint from before is given', async () => {
    const db = tampered('truncated', (d) => d.prepare('DELETE FROM events WHERE seq > ?').run(checkpointSize - 3))
    expect((await verify(db)).exitCode).toBe(0)
    const res = await verify(db, ['--checkpoint', checkpointFile])
    expect(res.exitCode).toBe(5)
    expect(res.json.error.details.checkpoints[0]).toMatchObject({ok: false, size: checkpointSize})
    expect(res.json.error.details.checkpoints[0].reason).toMatch(/truncat/)
  })

  it('exits 5 for a re-chained table only when a checkpoint from before is given', async () => {
    const db = tampered('rechained', (d) => {
      const rows = d.prepare('SELECT seq, ts, type, actor, payload FROM events ORDER BY seq').all() as {seq: number; ts: string; type: string; actor: string; payload: string}[]
      let prev = GENESIS_PREV_HASH
      const update = d.prepare('UPDATE events SET payload = ?, prev_hash = ?, hash = ? WHERE seq = ?')
      for (const row of rows) {
        const payload = row.seq === 4 ? row.payload.replace('"outcome":"ok"', '"outcome":"error"') : row.payload
        const hash = hashEvent({prev_hash: prev, seq: row.seq, ts: row.ts, type: row.type, actor: row.actor, payload})
        update.run(payload, prev, hash, row.seq)
        prev = hash
      }
    })
    expect((await verify(db)).exitCode).toBe(0)
    const res = await verify(db, ['--checkpoint', checkpointFile])
    expect(res.exitCode).toBe(5)
    expect(res.json.error.details.checkpoints[0].reason).toMatch(/root/)
  })

  it('rejects a checkpoint signed by another key', async () => {
    const other = await testEnv()
    try {
      const res = await verify(env.paths.ledgerDb, ['--checkpoint', checkpointFile, '--pubkey', join(other.paths.identityDir, 'ed25519.pub')])
      expect(res.exitCode).toBe(5)
      expect(res.json.error.details.checkpoints[0].ok).toBe(false)
    } finally {
      await other.cleanup()
    }
  })

  it('gives a usage error for a missing database', async () => {
    const res = await verify(join(env.base, 'nope.db'))
    expect(res.exitCode).toBe(2)
    expect(res.json.error.code).toBe('NOT_FOUND')
  })
})
