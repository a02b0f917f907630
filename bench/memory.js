// Memory recall figures: p50/p95 of a recall (query parsing + the FTS5/bm25 query with filters and
// LIMIT) over indexes of 10k and 100k memories. The corpus is written straight into the index
// through its module (not via HTTP, and without markdown files) so it builds in seconds; the words
// follow a Zipf distribution so that common terms match a large share of the corpus, as in real notes.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {openMemoryIndex} from '../dist/daemons/agentd/memory/index.js'
import {parseRecallQuery, parseTimeframe} from '../dist/daemons/agentd/memory/query.js'
import {percentile, report, round} from './lib.js'

const VOCABULARY = 5000
const CATEGORIES = ['general', 'incident', 'fix', 'diagnosis', 'preference', 'change', 'security', 'backup', 'deploy', 'network']
const NOW = Date.parse('2026-11-25T12:00:00.000Z')
// Fewer queries at 100k keep `npm run bench` short; 300 still give a stable p95.
const QUERIES = {10000: 2000, 100000: 300}

// A seeded PRNG so every run measures the same corpus and queries.
function rng(seed) {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'ta', 'so', 'vi', 'de', 'po', 'xe', 'qu', 'ba', 'gi', 'fo', 'zu']
const words = Array.from({length: VOCABULARY}, (_, i) => {
  let n = i + 17
  let w = ''
  while (n > 0) {
    w += SYLLABLES[n % SYLLABLES.length]
    n = Math.floor(n / SYLLABLES.length)
  }
  return `${w}${i % 7 === 0 ? 'ing' : i % 5 === 0 ? 'ed' : ''}`
})
// Zipf(1): cumulative weights 1/rank.
const cumulative = []
let total = 0
for (let r = 1; r <= VOCABULARY; r++) cumulative.push((total += 1 / r))
function zipfWord(random) {
  const x = random() * total
  let lo = 0
  let hi = VOCABULARY - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (cumulative[mid] < x) lo = mid + 1
    else hi = mid
  }
  return words[lo]
}
const sentence = (random, n) => Array.from({length: n}, () => zipfWord(random)).join(' ')

function buildIndex(path, n) {
  const random = rng(42)
  const index = openMemoryIndex(path)
  const start = performance.now()
  for (let base = 0; base < n; base += 5000) {
    const rows = []
    for (let i = base; i < Math.min(n, base + 5000); i++) {
      const ts = new Date(NOW - Math.floor(random() * 365 * 86_400_000)).toISOString()
      const id = `mem_${String(i).padStart(26, '0')}`
      const category = CATEGORIES[Math.floor(random() * CATEGORIES.length)]
      rows.push({
        memory: {id, ts, category, subcategory: null, source: 'bench', agent_id: null, tags: [zipfWord(random), zipfWord(random)], summary: sentence(random, 12), detail: sentence(random, 60)},
        file: {path: `${category}/${ts.slice(0, 7)}/${id}.md`, mtime_ms: 0, size: 0},
      })
    }
    index.insertMany(rows)
  }
  return {index, build_secs: round((performance.now() - start) / 1000)}
}

function measure(index, seed, queries) {
  const random = rng(seed)
  const times = []
  for (let i = 0; i < queries + 200; i++) {
    const kind = random()
    const nTerms = 1 + Math.floor(random() * 3)
    let query = Array.from({length: nTerms}, () => zipfWord(random)).join(' ')
    if (kind > 0.9) query = `"${zipfWord(random)} ${zipfWord(random)}"`
    else if (kind > 0.8) query = `${zipfWord(random).slice(0, 4)}*`
    const start = performance.now()
    const terms = parseRecallQuery(query)
    const filter = {terms, limit: 10}
    if (kind < 0.2) filter.category = CATEGORIES[Math.floor(random() * CATEGORIES.length)]
    else if (kind < 0.3) filter.window = parseTimeframe('7d', NOW)
    index.recall(filter)
    const ms = performance.now() - start
    if (i >= 200) times.push(ms) // the first 200 warm the page cache and the statement cache
  }
  times.sort((a, b) => a - b)
  return {p50_ms: round(percentile(times, 50)), p95_ms: round(percentile(times, 95)), p99_ms: round(percentile(times, 99)), max_ms: round(times[times.length - 1])}
}

/** Recall latency at 10k and 100k memories. */
export async function benchMemory(sizes = [10_000, 100_000]) {
  for (const n of sizes) {
    const dir = mkdtempSync(join(tmpdir(), 'osmoda-bench-memory-'))
    try {
      const {index, build_secs} = buildIndex(join(dir, 'memory-index.db'), n)
      const queries = QUERIES[n] ?? 500
      report({bench: 'memory.recall', memories: n, queries, build_secs, ...measure(index, 7, queries), goal: 'p95 < 10 ms at 100k'})
      index.close()
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchMemory()
