import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import type {MemoryRecord} from './files.js'
import {openMemoryIndex, type IndexedFile, type MemoryIndex, type RecallFilter} from './index.js'
import {parseRecallQuery} from './query.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn()
})

function tempIndex(): MemoryIndex {
  const dir = mkdtempSync(join(tmpdir(), 'osmoda-memidx-'))
  const index = openMemoryIndex(join(dir, 'memory-index.db'))
  cleanups.push(() => {
    index.close()
    rmSync(dir, {recursive: true, force: true})
  })
  return index
}

// A seeded PRNG: a failing case reproduces.
function rng(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// Words with stems (restart/restarting/restarted), shared prefixes, non-ASCII letters and words
// FTS5 splits (v1.2, max_conn), drawn with a skew so that some terms are in most rows, as in notes.
const BASE = ['restart', 'disk', 'nginx', 'crash', 'postgres', 'memori', 'kernel', 'über', 'naïve', 'résumé', 'fail', 'swap', 'tls', 'dns', 'cron', 'deploy', 'zfs', 'v1.2', 'max_conn', 'log', 'the', 'a', 'loop', 'queue']
const WORDS = BASE.flatMap((w) => [w, `${w}ing`, `${w}ed`, `${w}s`])
const CATEGORIES = ['incident', 'fix', 'preference', 'change']
const TAGS = ['nginx', 'disk', 'kernel', 'tls', 'db']
const NOW = Date.parse('2026-11-25T12:00:00.000Z')

function corpus(random: () => number, n: number, from = 0): {memory: MemoryRecord; file: IndexedFile}[] {
  const word = () => WORDS[Math.floor(random() ** 2.5 * WORDS.length)]!
  const text = (max: number) => Array.from({length: 1 + Math.floor(random() * max)}, word).join(random() < 0.5 ? ' ' : ', ')
  return Array.from({length: n}, (_, k) => {
    const i = from + k
    const id = `mem_${String(i).padStart(26, '0')}`
    const ts = new Date(NOW - Math.floor(random() * 60) * 86_400_000).toISOString()
    const category = CATEGORIES[Math.floor(random() * CATEGORIES.length)]!
    const tags = [...new Set(Array.from({length: Math.floor(random() * 3)}, () => TAGS[Math.floor(random() * TAGS.length)]!))]
    return {
      memory: {id, ts, category, subcategory: null, source: 'test', agent_id: null, tags, summary: text(8), detail: random() < 0.3 ? '' : text(40)},
      file: {path: `${category}/${id}.md`, mtime_ms: i, size: i},
    }
  })
}

function randomFilter(random: () => number): RecallFilter {
  const word = () => WORDS[Math.floor(random() ** 2 * WORDS.length)]!
  const parts = Array.from({length: 1 + Math.floor(random() * 4)}, () => {
    const w = word()
    return random() < 0.2 ? `${w.slice(0, 1 + Math.floor(random() * 4))}*` : random() < 0.1 ? w.toUpperCase() : w
  })
  const filter: RecallFilter = {terms: parseRecallQuery(parts.join(' ')), limit: [1, 3, 10, 100][Math.floor(random() * 4)]!}
  const kind = random()
  if (kind < 0.2) filter.category = CATEGORIES[Math.floor(random() * CATEGORIES.length)]!
  else if (kind < 0.35) filter.window = {fromMs: NOW - 14 * 86_400_000, toMs: Number.MAX_SAFE_INTEGER}
  else if (kind < 0.45) filter.tags = [TAGS[Math.floor(random() * TAGS.length)]!]
  return filter
}

function expectSameRanking(index: MemoryIndex, filter: RecallFilter) {
  const fast = index.recall(filter)
  const exhaustive = index.recallExhaustive(filter)
  const label = `${filter.terms.map((t) => t.text + (t.kind === 'prefix' ? '*' : '')).join(' ')} ${JSON.stringify({...filter, terms: undefined})}`
  expect(fast.hits.map((h) => h.id), label).toEqual(exhaustive.hits.map((h) => h.id))
  // The same doubles, not merely close ones: the ranker repeats FTS5's arithmetic in FTS5's order.
  // (On arm64 a C compiler may fuse FTS5's multiply-adds, which moves the last bit: close there.)
  if (process.arch === 'x64') expect(fast.hits.map((h) => h.score), label).toEqual(exhaustive.hits.map((h) => h.score))
  fast.hits.forEach((hit, i) => expect(hit.score, label).toBeCloseTo(exhaustive.hits[i]!.score, 12))
  expect(fast.total, label).toBe(exhaustive.total)
  return fast
}

describe('recall ranker against the exhaustive FTS5 ranking', () => {
  it('returns the same hits, order, scores and totals on a generated corpus', () => {
    // Given 600 generated memories
    const random = rng(20261126)
    const index = tempIndex()
    index.insertMany(corpus(random, 600))
    // When 300 random queries (terms, prefixes, repeats, filters, limits) are recalled both ways
    let nonEmpty = 0
    let ranked = 0
    for (let q = 0; q < 300; q++) {
      const result = expectSameRanking(index, randomFilter(random))
      nonEmpty += result.hits.length ? 1 : 0
      ranked += result.via === 'ranker' ? 1 : 0
    }
    // Then every answer agrees (checked above), the queries were not vacuous, and most went
    // through the ranker (the rest hold a word FTS5 splits, such as v1.2)
    expect(nonEmpty).toBeGreaterThan(200)
    expect(ranked).toBeGreaterThan(150)
  })

  it('follows writes made after it was loaded: inserts, replaced files, removals, a failed batch', () => {
    // Given a loaded ranker
    const random = rng(7)
    const index = tempIndex()
    const rows = corpus(random, 300)
    index.insertMany(rows)
    expectSameRanking(index, {terms: parseRecallQuery('restart disk'), limit: 10})
    // When rows are added, files re-indexed with new text, others removed (their rowids reused)
    index.insertMany(corpus(random, 100, 300))
    for (const row of rows.slice(0, 40)) index.upsert({...row.memory, summary: `${row.memory.summary} nginx crashed again`}, row.file)
    for (const row of rows.slice(40, 120)) index.removePath(row.file.path)
    index.insertMany(corpus(random, 50, 400))
    // and a batch fails half way (a row with an unparsable time breaks NOT NULL)
    const broken = corpus(random, 3, 450)
    broken[2]!.memory.ts = 'not a time'
    expect(() => index.insertMany(broken)).toThrow()
    // Then every answer still agrees with FTS5
    let ranked = 0
    for (let q = 0; q < 150; q++) ranked += expectSameRanking(index, randomFilter(random)).via === 'ranker' ? 1 : 0
    expect(ranked).toBeGreaterThan(75)
    expect(index.recall({terms: parseRecallQuery('nginx crash'), limit: 100}).hits.length).toBeGreaterThan(40)
  })

  it('sends phrases and words FTS5 splits to FTS5, and ranks them the same', () => {
    // Given a small corpus
    const index = tempIndex()
    index.insertMany(corpus(rng(3), 200))
    // When recalled with a phrase, a dotted word, a snake_case word and a mix
    for (const query of ['"restart disk"', 'v1.2', 'max_conn nginx', '"the loop" crash']) {
      // Then FTS5 ranks them, and the same way as the exhaustive query
      expect(expectSameRanking(index, {terms: parseRecallQuery(query), limit: 10}).via).toBe('fts5')
    }
    // while a quoted single word is a plain term for the ranker
    expect(expectSameRanking(index, {terms: parseRecallQuery('"crash" über'), limit: 10}).via).toBe('ranker')
  })

  it('stems prefixes as FTS5 does (restarting* is restart*) and folds case and diacritics', () => {
    // Given a small corpus
    const index = tempIndex()
    index.insertMany(corpus(rng(5), 200))
    // When recalled with long, stemmed, upper-case and non-ASCII prefixes and words
    for (const query of ['restarting*', 'crashes*', 'DISKS*', 'über*', 'UBER', 'resume*', 'résumés', 'naïveed*']) {
      // Then the ranker answers as FTS5 does, and the stemmed prefix finds rows
      expect(expectSameRanking(index, {terms: parseRecallQuery(query), limit: 10}).via).toBe('ranker')
    }
    expect(index.recall({terms: parseRecallQuery('restarting*'), limit: 10}).total).toBeGreaterThan(0)
  })

  it('breaks exact score ties newest rowid first, as the SQL ranking does', () => {
    // Given identical memories (equal scores)
    const index = tempIndex()
    const rows = corpus(rng(1), 5).map((row) => ({...row, memory: {...row.memory, summary: 'same words', detail: '', tags: [], category: 'fix'}}))
    index.insertMany(rows)
    // When recalled
    const {hits, via} = expectSameRanking(index, {terms: parseRecallQuery('same'), limit: 3})
    expect(via).toBe('ranker')
    // Then the last stored come first
    expect(hits.map((h) => h.id)).toEqual([rows[4]!.memory.id, rows[3]!.memory.id, rows[2]!.memory.id])
  })
})
