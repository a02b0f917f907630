// Shared measuring helpers for the benchmarks: one JSON line per figure on stdout.
import {spawnSync} from 'node:child_process'

export const results = []

/** Prints one figure as a JSON line and keeps it for bench/results. */
export function report(figure) {
  const line = {ts: new Date().toISOString(), ...figure}
  results.push(line)
  process.stdout.write(`${JSON.stringify(line)}\n`)
}

/** Percentile of a sorted array. */
export function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

/** Median wall time in ms of running argv `runs` times. */
export function wallTime(argv, {runs = 15, env = process.env, cwd} = {}) {
  const times = []
  for (let i = 0; i < runs + 2; i++) {
    const start = performance.now()
    const r = spawnSync(argv[0], argv.slice(1), {env, cwd, stdio: ['ignore', 'ignore', 'pipe']})
    const ms = performance.now() - start
    if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`)
    if (i >= 2) times.push(ms) // the first two warm the page cache and the compile cache
  }
  times.sort((a, b) => a - b)
  return {median_ms: round(percentile(times, 50)), min_ms: round(times[0]), runs}
}

/** Rounds to 2 decimals. */
export function round(n) {
  return Math.round(n * 100) / 100
}

/** Polls `read` (sync or async; a rejection counts as "not yet") every `everyMs` until it yields a value other than undefined/false. */
export async function until(read, {ms = 15_000, everyMs = 5} = {}) {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await Promise.resolve().then(read).catch(() => undefined)
    if (value !== undefined && value !== false && value !== null) return value
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
