import {existsSync} from 'node:fs'
import {availableParallelism} from 'node:os'
import {fileURLToPath} from 'node:url'
import {Worker} from 'node:worker_threads'
import type {Db} from '../db/open.js'
import {MAX_REPORTED_BREAKS, verifyChain, type ChainReport} from './verify.js'

/** Below this many rows one thread is faster than starting workers. */
const PARALLEL_MIN_ROWS = 50_000
const MAX_WORKERS = 4

/** Options of verifyChainParallel. */
export interface ParallelVerifyOptions {
  from?: number
  to?: number
  /** Threads to use (default: the CPUs available, at most 4). */
  workers?: number
}

/**
 * verifyChain over a ledger file, split into contiguous slices verified by worker threads. Each
 * slice links its first row to the stored hash of the row before it, so the merged report names
 * exactly the rows a single pass would. Falls back to one pass for small ranges, one CPU, or when
 * running from TypeScript sources (no compiled worker).
 */
export async function verifyChainParallel(db: Db, path: string, options: ParallelVerifyOptions = {}): Promise<ChainReport> {
  const from = options.from ?? 1
  const head = (db.prepare('SELECT coalesce(max(seq), 0) FROM events').pluck().get() as number) ?? 0
  const last = Math.min(options.to ?? head, head)
  const workers = Math.min(options.workers ?? Math.min(availableParallelism(), MAX_WORKERS), Math.floor((last - from + 1) / (PARALLEL_MIN_ROWS / 2)))
  const script = new URL('./verify-worker.js', import.meta.url)
  if (workers < 2 || last - from + 1 < PARALLEL_MIN_ROWS || !existsSync(fileURLToPath(script))) return verifyChain(db, {from: options.from, to: options.to})

  const span = Math.ceil((last - from + 1) / workers)
  const slices = Array.from({length: workers}, (_, i) => ({from: from + i * span, to: i === workers - 1 ? options.to : Math.min(last, from + (i + 1) * span - 1)}))
  const reports = await Promise.all(
    slices.map(
      (slice) =>
        new Promise<ChainReport>((resolve, reject) => {
          const worker = new Worker(script, {workerData: {path, ...slice}})
          worker.once('message', resolve)
          worker.once('error', reject)
          worker.once('exit', (code) => code !== 0 && reject(new Error(`verify worker exited with ${code}`)))
        }),
    ),
  )
  return mergeReports(reports)
}

/** Joins slice reports, in seq order, into the report of the whole range. */
export function mergeReports(reports: readonly ChainReport[]): ChainReport {
  const merged: ChainReport = {ok: true, size: 0, head_seq: null, head_hash: null, first_bad_seq: null, bad_count: 0, breaks: []}
  for (const report of reports) {
    merged.size += report.size
    merged.bad_count += report.bad_count
    merged.first_bad_seq ??= report.first_bad_seq
    merged.breaks.push(...report.breaks.slice(0, MAX_REPORTED_BREAKS - merged.breaks.length))
    if (report.head_seq !== null) {
      merged.head_seq = report.head_seq
      merged.head_hash = report.head_hash
    }
  }
  merged.ok = merged.bad_count === 0
  return merged
}
