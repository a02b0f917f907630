import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it, onTestFinished} from 'vitest'
import {openLedger} from '../src/lib/ledger/ledger.js'
import {verifyChain} from '../src/lib/ledger/verify.js'
import {APPENDER, ensureLedgerBuild} from './helpers/ledger-build.js'

/** Starts an appender that opens the ledger, reports ready, and waits for `go()` to append. */
function startAppender(db: string, count: number, actor: string) {
  const child = spawn(process.execPath, [APPENDER, db, String(count), actor, '--wait-go', '--pace'], {stdio: ['pipe', 'pipe', 'pipe']})
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<{code: number | null; stderr: string}>((resolve) => child.on('exit', (code) => resolve({code, stderr})))
  // A child that dies before it reports ready fails the test with its stderr instead of hanging it.
  const ready = new Promise<void>((resolve, reject) => {
    child.once('error', reject)
    child.stdout.once('data', () => resolve())
    void exited.then(({code}) => reject(new Error(`appender ${actor} exited ${code} before it was ready:\n${stderr}`)))
  })
  return {ready, exited, go: () => child.stdin.write('go\n')}
}

describe('ledger shared by several processes', () => {
  beforeAll(() => {
    ensureLedgerBuild()
  }, 120_000)

  it('keeps one contiguous, valid chain when three processes append at once', async () => {
    // Given an empty ledger file that three children open at the same time (racing on the schema too)
    // (on tmpfs when there is one: each append fsyncs, and the point here is locking, not disk speed;
    // on a busy CI disk 900 fsyncs alone took longer than the test's timeout)
    const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'osmoda-mp-'))
    onTestFinished(() => rmSync(dir, {recursive: true, force: true}))
    const db = join(dir, 'ledger.db')
    const perProcess = 300
    const actors = ['p1', 'p2', 'p3']
    const children = actors.map((actor) => startAppender(db, perProcess, actor))
    await Promise.all(children.map((c) => c.ready))
    // When all three are released together and append concurrently
    for (const c of children) c.go()
    const results = await Promise.all(children.map((c) => c.exited))
    // Then all succeed
    for (const r of results) expect(r, r.stderr).toMatchObject({code: 0})
    // And the chain holds every event exactly once, contiguous from 1, and verifies
    const ledger = openLedger(db, {readonly: true})
    const report = verifyChain(ledger.db)
    expect(report).toMatchObject({ok: true, size: 3 * perProcess, head_seq: 3 * perProcess, bad_count: 0})
    // And each process's own events appear in the order it appended them
    for (const actor of actors) {
      const own = ledger.query({actor, limit: 1000, order: 'asc'}).map((e) => e.payload.i)
      expect(own).toEqual(Array.from({length: perProcess}, (_, i) => i))
    }
    // And the writers really interleaved rather than running one after another
    const order = ledger.query({limit: 1000, order: 'asc'}).map((e) => e.actor)
    const switches = order.filter((a, i) => i > 0 && a !== order[i - 1]).length
    expect(switches).toBeGreaterThan(30)
    ledger.close()
  }, 120_000)
})
