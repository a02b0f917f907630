// Ledger figures: single-event durable append rate next to a raw better-sqlite3 insert with the same
// pragmas and a commit per row, measured in the same run; then chain verification rate.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {openDatabase} from '../dist/lib/db/open.js'
import {canonicalJson} from '../dist/lib/ledger/canonical-json.js'
import {GENESIS_PREV_HASH, formatTs, hashEvent} from '../dist/lib/ledger/format.js'
import {openLedger} from '../dist/lib/ledger/ledger.js'
import {verifyChain} from '../dist/lib/ledger/verify.js'
import {verifyChainParallel} from '../dist/lib/ledger/verify-parallel.js'
import {report, round} from './lib.js'

const payload = {tool: 'system_health', toolset: 'agentd', args_sha256: 'a'.repeat(64), outcome: 'ok', duration_ms: 1.2}

function rawInsertRate(dir, n) {
  const db = openDatabase(join(dir, 'raw.db'))
  db.exec('CREATE TABLE events (seq INTEGER PRIMARY KEY, ts TEXT NOT NULL, type TEXT NOT NULL, actor TEXT NOT NULL, payload TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)')
  const insert = db.prepare('INSERT INTO events (ts, type, actor, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)')
  const text = JSON.stringify(payload)
  const one = db.transaction(() => insert.run(new Date().toISOString(), 'tool.called', 'agent:bench', text, GENESIS_PREV_HASH, GENESIS_PREV_HASH))
  const start = performance.now()
  for (let i = 0; i < n; i++) one.immediate()
  const secs = (performance.now() - start) / 1000
  db.close()
  return n / secs
}

function appendRate(dir, n) {
  const ledger = openLedger(join(dir, 'ledger.db'))
  const start = performance.now()
  for (let i = 0; i < n; i++) ledger.append({type: 'tool.called', actor: 'agent:bench', payload: {...payload, duration_ms: i}})
  const secs = (performance.now() - start) / 1000
  ledger.close()
  return n / secs
}

/** Bulk-builds a valid n-event ledger at `path` (shared with bench/backup.js). */
export function buildChain(path, n) {
  // Bulk-built with the real row format, in one transaction, so the fixture is quick to make.
  const ledger = openLedger(path)
  ledger.close()
  const db = openDatabase(path)
  const insert = db.prepare('INSERT INTO events (seq, ts, type, actor, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)')
  let prev = GENESIS_PREV_HASH
  const ts = formatTs(new Date())
  db.transaction(() => {
    for (let seq = 1; seq <= n; seq++) {
      const text = canonicalJson({...payload, duration_ms: seq})
      const hash = hashEvent({prev_hash: prev, seq, ts, type: 'tool.called', actor: 'agent:bench', payload: text})
      insert.run(seq, ts, 'tool.called', 'agent:bench', text, prev, hash)
      prev = hash
    }
  })()
  db.close()
}

/** Runs the ledger benchmarks. */
export async function benchLedger() {
  const dir = mkdtempSync(join(tmpdir(), 'osmoda-bench-'))
  try {
    const n = Number(process.env.BENCH_APPENDS ?? 3000)
    // Interleave so both see the same disk conditions.
    const raw1 = rawInsertRate(join(dir), n)
    const app1 = appendRate(join(dir), n)
    const raw = round(raw1)
    const append = round(app1)
    report({figure: 'ledger_append_rate', unit: 'events/s', value: append, raw_insert_rate: raw, ratio: round(append / raw), goal_ratio: 0.5, n, note: 'one BEGIN IMMEDIATE transaction per event, synchronous=FULL, WAL'})

    const size = Number(process.env.BENCH_VERIFY_EVENTS ?? 200_000)
    const path = join(dir, 'verify.db')
    buildChain(path, size)
    const db = openDatabase(path, {readonly: true})
    let start = performance.now()
    const single = verifyChain(db)
    const singleSecs = (performance.now() - start) / 1000
    start = performance.now()
    const split = await verifyChainParallel(db, path)
    const splitSecs = (performance.now() - start) / 1000
    db.close()
    if (!single.ok || !split.ok) throw new Error('bench chain did not verify')
    report({figure: 'ledger_verify_rate', unit: 'events/s', value: round(size / splitSecs), single_thread: round(size / singleSecs), goal: 300_000, n: size, note: 'value: as osmoda verify-ledger runs it (worker threads over slices)'})
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}
