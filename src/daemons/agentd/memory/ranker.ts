/*
 * The in-memory side of recall: per-term postings (document slot, weighted term frequency) and
 * the same bm25 FTS5 computes for `bm25(memories_fts, 3.0, 2.0, 1.0, 1.0)`, evaluated over typed
 * arrays instead of one auxiliary-function call per matching row. Why this exists and what it
 * measured: the top of index.ts and docs/memory.md.
 *
 * Exactness: FTS5 (fts5Bm25Function) computes, per row, with doubles,
 *   score = Σ_i IDF_i · (f_i · (k1 + 1)) / (f_i + k1 · (1 − b + b · D / avgdl)),  k1 = 1.2, b = 0.75
 * where f_i = Σ over the phrase's instances in the row of the column weight, D = the row's token
 * count, avgdl = total tokens / rows, IDF_i = ln((N − n_i + 0.5) / (n_i + 0.5)) floored to 1e-6,
 * n_i = rows matching phrase i. `search` adds the same terms in the same phrase order with the
 * same operations, so scores equal FTS5's (a phrase absent from a row adds exactly 0 in FTS5); the
 * logarithm comes from SQLite's ln(), i.e. the same C log() FTS5 calls. (Where the C compiler fuses
 * multiply-adds, e.g. arm64, FTS5's doubles can differ in the last bit; ties stay ties either way.)
 */

const K1 = 1.2
const B = 0.75

/** One phrase of a fast-path query: a single token, or a token prefix (`tok*`). */
export interface RankPhrase {
  kind: 'term' | 'prefix'
  token: string
}

/** A document as the ranker holds it: term ids with weighted frequencies, and its filter fields. */
export interface RankDoc {
  rowid: number
  tsMs: number
  category: string
  /** Tokens in the row over all columns (FTS5's xColumnSize(-1)). */
  ntok: number
  /** [term id, weighted frequency] pairs, flat. */
  pairs: Int32Array
}

/** Which documents may be returned; applied before the limit and the total. */
export interface RankFilter {
  category?: string
  fromMs?: number
  toMs?: number
  rowids?: ReadonlySet<number>
}

/** Ranked rowids (best first) with their scores, and the number of filtered matches. */
export interface RankResult {
  rowids: number[]
  scores: number[]
  total: number
}

interface Postings {
  /** Slots in ascending order (slots are appended in order), with their weighted frequencies. */
  slots: Int32Array
  weights: Int32Array
  n: number
}

function grow<T extends Int32Array | Float64Array | Uint8Array>(array: T, need: number, make: (n: number) => T): T {
  if (need <= array.length) return array
  const next = make(Math.max(need, array.length * 2))
  next.set(array)
  return next
}

/**
 * Creates an empty ranker; `termOf(id)` names term ids (the index's vocabulary); `ln` is the
 * natural log FTS5 uses (the C library's: V8's Math.log differs in the last bit for some inputs).
 */
export function createRanker(termOf: (id: number) => string | undefined, ln: (x: number) => number = Math.log) {
  // Documents live in append-only slots: a deleted or replaced row only clears `alive`, so a
  // reused rowid never inherits the postings of the row it replaces.
  let rowids = new Float64Array(1024)
  let ntoks = new Int32Array(1024)
  let tsMs = new Float64Array(1024)
  let cats = new Int32Array(1024)
  let alive = new Uint8Array(1024)
  let slots = 0
  let liveDocs = 0
  let liveTokens = 0
  let deadDocs = 0
  const slotOfRowid = new Map<number, number>()
  const categoryIds = new Map<string, number>()
  const postings: (Postings | undefined)[] = []
  const termIds = new Map<string, number>()
  let sortedTerms: string[] | null = null

  const remove = (rowid: number): void => {
    const slot = slotOfRowid.get(rowid)
    if (slot === undefined) return
    slotOfRowid.delete(rowid)
    alive[slot] = 0
    liveDocs--
    liveTokens -= ntoks[slot]!
    deadDocs++
  }

  const newSlot = (doc: RankDoc): number => {
    remove(doc.rowid)
    const slot = slots++
    rowids = grow(rowids, slots, (n) => new Float64Array(n))
    ntoks = grow(ntoks, slots, (n) => new Int32Array(n))
    tsMs = grow(tsMs, slots, (n) => new Float64Array(n))
    cats = grow(cats, slots, (n) => new Int32Array(n))
    alive = grow(alive, slots, (n) => new Uint8Array(n))
    rowids[slot] = doc.rowid
    ntoks[slot] = doc.ntok
    tsMs[slot] = doc.tsMs
    let cat = categoryIds.get(doc.category)
    if (cat === undefined) categoryIds.set(doc.category, (cat = categoryIds.size))
    cats[slot] = cat
    alive[slot] = 1
    slotOfRowid.set(doc.rowid, slot)
    liveDocs++
    liveTokens += doc.ntok
    return slot
  }

  const postingsOf = (id: number, capacity: number): Postings => {
    let p = postings[id]
    if (!p) {
      const term = termOf(id)
      if (term === undefined) throw new Error(`memory ranker: unknown term id ${id}`)
      postings[id] = p = {slots: new Int32Array(capacity), weights: new Int32Array(capacity), n: 0}
      termIds.set(term, id)
      sortedTerms = null
    }
    return p
  }

  /** Adds (or replaces, by rowid) documents; a batch sizes each posting list once. */
  const add = (docs: readonly RankDoc[]): void => {
    let maxId = 0
    for (const {pairs} of docs) for (let i = 0; i < pairs.length; i += 2) maxId = Math.max(maxId, pairs[i]!)
    const counts = new Int32Array(maxId + 1)
    for (const {pairs} of docs) for (let i = 0; i < pairs.length; i += 2) counts[pairs[i]!]!++
    for (let id = 0; id <= maxId; id++) {
      const count = counts[id]!
      if (count === 0) continue
      const p = postingsOf(id, count)
      p.slots = grow(p.slots, p.n + count, (n) => new Int32Array(n))
      p.weights = grow(p.weights, p.n + count, (n) => new Int32Array(n))
    }
    for (const doc of docs) {
      const slot = newSlot(doc)
      const {pairs} = doc
      for (let i = 0; i < pairs.length; i += 2) {
        const p = postings[pairs[i]!]!
        p.slots[p.n] = slot
        p.weights[p.n] = pairs[i + 1]!
        p.n++
      }
    }
  }

  // Prefix expansion: the sorted vocabulary, rebuilt when a new term arrived since the last prefix query.
  const withPrefix = (prefix: string): number[] => {
    sortedTerms ??= [...termIds.keys()].sort()
    let lo = 0
    let hi = sortedTerms.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (sortedTerms[mid]! < prefix) lo = mid + 1
      else hi = mid
    }
    const ids: number[] = []
    for (let i = lo; i < sortedTerms.length && sortedTerms[i]!.startsWith(prefix); i++) ids.push(termIds.get(sortedTerms[i]!)!)
    return ids
  }

  // Scratch per slot, reused across searches (one search runs at a time: the daemon is single-threaded)
  // and left zeroed; `rows`/`hits` list the slots set, so clearing costs what the search touched.
  let score = new Float64Array(0)
  let freq = new Float64Array(0)
  let rows = new Int32Array(0)
  let hits = new Int32Array(0)
  let seen = new Uint8Array(0)
  let nHits = 0

  const addScore = (slot: number, contribution: number): void => {
    score[slot] = score[slot]! + contribution
    if (seen[slot] === 0) {
      seen[slot] = 1
      hits[nHits++] = slot
    }
  }

  const liveCount = (p: Postings): number => {
    if (deadDocs === 0) return p.n
    let count = 0
    for (let j = 0; j < p.n; j++) count += alive[p.slots[j]!]!
    return count
  }

  const idfOf = (df: number): number => {
    const idf = ln((liveDocs - df + 0.5) / (df + 0.5))
    return idf <= 0 ? 1e-6 : idf
  }

  // One token: its postings hold each row once, f is the posting's weight.
  const scoreTerm = (p: Postings, avgdl: number): void => {
    const idf = idfOf(liveCount(p))
    const {slots: ps, weights: pw, n} = p
    for (let j = 0; j < n; j++) {
      const slot = ps[j]!
      if (alive[slot] === 0) continue
      const f = pw[j]!
      addScore(slot, idf * ((f * (K1 + 1.0)) / (f + K1 * (1 - B + (B * ntoks[slot]!) / avgdl))))
    }
  }

  // A prefix: f sums the weights of every matching token in the row, n_i counts rows once.
  const scorePrefix = (lists: readonly Postings[], avgdl: number): void => {
    let nRows = 0
    for (const {slots: ps, weights: pw, n} of lists) {
      for (let j = 0; j < n; j++) {
        const slot = ps[j]!
        if (alive[slot] === 0) continue
        const f = freq[slot]!
        if (f === 0) rows[nRows++] = slot
        freq[slot] = f + pw[j]!
      }
    }
    const idf = idfOf(nRows)
    for (let j = 0; j < nRows; j++) {
      const slot = rows[j]!
      const f = freq[slot]!
      freq[slot] = 0
      addScore(slot, idf * ((f * (K1 + 1.0)) / (f + K1 * (1 - B + (B * ntoks[slot]!) / avgdl))))
    }
  }

  /** Exact bm25 top-`limit` over every live document, filters applied before the limit. */
  const search = (phrases: readonly RankPhrase[], limit: number, filter: RankFilter): RankResult => {
    if (score.length < slots) {
      score = new Float64Array(alive.length)
      freq = new Float64Array(alive.length)
      rows = new Int32Array(alive.length)
      hits = new Int32Array(alive.length)
      seen = new Uint8Array(alive.length)
    }
    nHits = 0
    const avgdl = liveTokens / liveDocs
    // Phrases in query order: FTS5 adds them in that order, and so must we for equal doubles.
    for (const phrase of phrases) {
      if (phrase.kind === 'term') {
        const id = termIds.get(phrase.token)
        const p = id === undefined ? undefined : postings[id]
        if (p) scoreTerm(p, avgdl)
      } else {
        scorePrefix(withPrefix(phrase.token).map((id) => postings[id]!), avgdl)
      }
    }
    const result = topK(limit, filter)
    for (let j = 0; j < nHits; j++) {
      score[hits[j]!] = 0
      seen[hits[j]!] = 0
    }
    return result
  }

  const topK = (limit: number, filter: RankFilter): RankResult => {
    const cat = filter.category === undefined ? -1 : (categoryIds.get(filter.category) ?? -2)
    const from = filter.fromMs ?? -Infinity
    const to = filter.toMs ?? Infinity
    const only = filter.rowids
    // Best first: higher score, then higher rowid (the SQL ranking's `ORDER BY rank, rowid DESC`).
    const top: number[] = []
    let total = 0
    for (let j = 0; j < nHits; j++) {
      const slot = hits[j]!
      if (cat !== -1 && cats[slot] !== cat) continue
      const ts = tsMs[slot]!
      if (ts < from || ts >= to) continue
      if (only && !only.has(rowids[slot]!)) continue
      total++
      const s = score[slot]!
      const r = rowids[slot]!
      if (top.length === limit) {
        const worst = top[limit - 1]!
        if (s < score[worst]! || (s === score[worst] && r < rowids[worst]!)) continue
      }
      let i = top.length === limit ? limit - 1 : top.length
      while (i > 0) {
        const prev = top[i - 1]!
        if (s < score[prev]! || (s === score[prev] && r < rowids[prev]!)) break
        top[i] = prev
        i--
      }
      top[i] = slot
    }
    return {rowids: top.map((slot) => rowids[slot]!), scores: top.map((slot) => score[slot]!), total}
  }

  return {
    add,
    remove,
    search,
    /** Live documents (for tests and health). */
    size: () => liveDocs,
    /** True when deleted slots make up a large share: the caller reloads from the index then. */
    wasteful: () => deadDocs > 1000 && deadDocs > liveDocs,
  }
}

/** A ranker instance. */
export type Ranker = ReturnType<typeof createRanker>
