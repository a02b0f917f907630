/*
 * The in-memory side of recall: per-term postings (document slot, weighted term frequency) and
 * the same bm25 FTS5 computes for `bm25(memories_fts, 3.0, 2.0, 1.0, 1.0)`, evaluated over typed
 * arrays instead of one auxiliary-function call per matching row. Why this exists and what it
 * measured is at the top of index.ts.
 *
 * Exactness: FTS5 (fts5Bm25Function) computes, per row, with doubles,
 *   score = Σ_i IDF_i · (f_i · (k1 + 1)) / (f_i + k1 · (1 − b + b · D / avgdl)),  k1 = 1.2, b = 0.75
 * where f_i = Σ over the phrase's instances in the row of the column weight, D = the row's token
 * count, avgdl = total tokens / rows, IDF_i = ln((N − n_i + 0.5) / (n_i + 0.5)) floored to 1e-6,
 * n_i = rows matching phrase i. `search` adds the same terms in the same phrase order with the
 * same operations, so scores equal FTS5's (a phrase absent from a row adds exactly 0 in FTS5).
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
  termIds: Int32Array
  weights: Int32Array
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

/** Creates an empty ranker; `termOf(id)` names term ids (the index's vocabulary). */
export function createRanker(termOf: (id: number) => string | undefined) {
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
  const postings = new Map<number, Postings>()
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

  const add = (doc: RankDoc): void => {
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
    for (let i = 0; i < doc.termIds.length; i++) {
      const id = doc.termIds[i]!
      let p = postings.get(id)
      if (!p) {
        const term = termOf(id)
        if (term === undefined) throw new Error(`memory ranker: unknown term id ${id}`)
        postings.set(id, (p = {slots: new Int32Array(4), weights: new Int32Array(4), n: 0}))
        termIds.set(term, id)
        sortedTerms = null
      }
      p.slots = grow(p.slots, p.n + 1, (n) => new Int32Array(n))
      p.weights = grow(p.weights, p.n + 1, (n) => new Int32Array(n))
      p.slots[p.n] = slot
      p.weights[p.n] = doc.weights[i]!
      p.n++
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

  /** Exact bm25 top-`limit` over every live document, filters applied before the limit. */
  const search = (phrases: readonly RankPhrase[], limit: number, filter: RankFilter): RankResult => {
    const score = new Float64Array(slots)
    const touched = new Uint8Array(slots)
    const touchedList: number[] = []
    const freq = new Float64Array(slots)
    const avgdl = liveTokens / liveDocs
    for (const phrase of phrases) {
      const lists = (phrase.kind === 'term' ? [termIds.get(phrase.token)] : withPrefix(phrase.token)).flatMap((id) => (id === undefined ? [] : [postings.get(id)!]))
      // f per slot (a prefix sums over its terms), then n_i = live rows with f > 0.
      const rows: number[] = []
      for (const p of lists) {
        for (let j = 0; j < p.n; j++) {
          const slot = p.slots[j]!
          if (!alive[slot]) continue
          if (freq[slot] === 0) rows.push(slot)
          freq[slot] = freq[slot]! + p.weights[j]!
        }
      }
      let idf = Math.log((liveDocs - rows.length + 0.5) / (rows.length + 0.5))
      if (idf <= 0) idf = 1e-6
      for (const slot of rows) {
        const f = freq[slot]!
        score[slot] = score[slot]! + idf * ((f * (K1 + 1.0)) / (f + K1 * (1 - B + (B * ntoks[slot]!) / avgdl)))
        freq[slot] = 0
        if (!touched[slot]) {
          touched[slot] = 1
          touchedList.push(slot)
        }
      }
    }
    return topK(touchedList, score, limit, filter)
  }

  const topK = (candidates: readonly number[], score: Float64Array, limit: number, filter: RankFilter): RankResult => {
    const cat = filter.category === undefined ? -1 : (categoryIds.get(filter.category) ?? -2)
    const from = filter.fromMs ?? -Infinity
    const to = filter.toMs ?? Infinity
    // Best first: higher score, then higher rowid (the SQL ranking's `ORDER BY rank, rowid DESC`).
    const better = (a: number, b: number) => score[a]! > score[b]! || (score[a] === score[b] && rowids[a]! > rowids[b]!)
    const top: number[] = []
    let total = 0
    for (const slot of candidates) {
      if (cat !== -1 && cats[slot] !== cat) continue
      if (tsMs[slot]! < from || tsMs[slot]! >= to) continue
      if (filter.rowids && !filter.rowids.has(rowids[slot]!)) continue
      total++
      if (top.length === limit && !better(slot, top[limit - 1]!)) continue
      let i = top.length === limit ? limit - 1 : top.length
      while (i > 0 && better(slot, top[i - 1]!)) {
        top[i] = top[i - 1]!
        i--
      }
      top[i] = slot
    }
    return {rowids: top.map((s) => rowids[s]!), scores: top.map((s) => score[s]!), total}
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
