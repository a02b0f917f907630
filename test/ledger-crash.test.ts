import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it, onTestFinished} from 'vitest'
import {openLedger} from '../src/lib/ledger/ledger.js'
import {verifyChain} from '../src/lib/ledger/verify.js'
import {APPENDER, ensureLedgerBuild} from './helpers/ledger-build.js'

const ROUNDS = 50

/** Starts an appender in a tight loop and SIGKILLs it `delayMs` after it reports it started. */
function appendUntilKilled(db: string, delayMs: number): Promise<NodeJS.Signals | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [APPENDER, db, 'forever', 'crasher'], {stdio: ['ignore', 'pipe', 'inherit']})
    child.on('error', reject)
    child.on('exit', (_code, signal) => resolve(signal))
    child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), delayMs))
  })
}

describe('ledger crash safety', () => {
  beforeAll(() => {
    ensureLedgerBuild()
  }, 120_000)

  it(`survives ${ROUNDS} SIGKILLs mid-append: every committed row is whole and the chain verifies`, async () => {
    // Given one ledger file reused across rounds, like a daemon that keeps being killed
    const dir = mkdtempSync(join(tmpdir(), 'osmoda-crash-'))
    onTestFinished(() => rmSync(dir, {recursive: true, force: true}))
    const db = join(dir, 'ledger.db')
    let previous = 0
    let grewIn = 0
    for (let round = 0; round < ROUNDS; round++) {
      // When an appender is killed 5–60 ms into a tight append loop
      const delay = 5 + Math.floor(Math.random() * 56)
      expect(await appendUntilKilled(db, delay)).toBe('SIGKILL')
      // Then reopening recovers the WAL and the chain verifies with contiguous seqs
      const ledger = openLedger(db)
      const report = verifyChain(ledger.db)
      expect(report, `round ${round}: ${JSON.stringify(report.breaks)}`).toMatchObject({ok: true, bad_count: 0})
      const [count, maxSeq, hashless] = ledger.db
        .prepare("SELECT count(*), coalesce(max(seq), 0), sum(hash IS NULL OR length(hash) <> 64) FROM events")
        .raw()
        .get() as [number, number, number | null]
      expect(count).toBe(maxSeq)
      expect(hashless ?? 0).toBe(0)
      // And nothing committed earlier was lost
      expect(count).toBeGreaterThanOrEqual(previous)
      if (count > previous) grewIn++
      previous = count
      ledger.close()
    }
    // And the kills landed while appends were happening, not before the first one
    expect(previous).toBeGreaterThan(0)
    expect(grewIn).toBeGreaterThan(ROUNDS / 2)
  }, 120_000)
})
