import type Database from 'better-sqlite3'
import type {RecallTerm} from './query.js'
import {createRanker, type RankDoc, type RankPhrase, type Ranker} from './ranker.js'
import {createTokenProbe, type IndexedText} from './tokens.js'

/*
 * Each memory row's terms (FTS5's own tokens, with bm25 column weights applied) are kept in
 * `memory_terms` (rowid → token count + packed [term id, weighted frequency] pairs) beside a
 * `memory_vocab` of term ids, written in the same transaction as the row. The ranker is built
 * from these tables at the first recall and then follows every write, so it never re-tokenises.
 * The pairs are Int32 in host byte order: the index is derived and never leaves this host.
 */

const QUERY_TOKEN_CACHE = 4096

/** The term tables of the memory index and the ranker built from them. */
export function createTermStore(db: Database.Database) {
  const probe = createTokenProbe(db)
  const insertTerm = db.prepare('INSERT INTO memory_vocab (term) VALUES (?)')
  const insertTerms = db.prepare('INSERT OR REPLACE INTO memory_terms (rowid, ntok, data) VALUES (?, ?, ?)')
  // SQLite's ln() is the C library's log(), the one fts5Bm25GetData calls.
  const lnStatement = db.prepare('SELECT ln(?)').pluck()
  const ln = (x: number) => lnStatement.get(x) as number
  const queryTokens = new Map<string, string | null>()
  let vocab: Map<string, number> | null = null
  let names: string[] = []
  let ranker: Ranker | null = null

  const loadVocab = (): Map<string, number> => {
    if (vocab) return vocab
    vocab = new Map()
    names = []
    for (const [id, term] of db.prepare('SELECT id, term FROM memory_vocab').raw().iterate() as Iterable<[number, string]>) {
      vocab.set(term, id)
      names[id] = term
    }
    return vocab
  }

  const idOf = (term: string): number => {
    const known = loadVocab().get(term)
    if (known !== undefined) return known
    const id = Number(insertTerm.run(term).lastInsertRowid)
    vocab!.set(term, id)
    names[id] = term
    return id
  }

  const loadRanker = (): Ranker => {
    loadVocab()
    const fresh = createRanker((id) => names[id], ln)
    const docs: RankDoc[] = []
    const rows = db.prepare('SELECT t.rowid, m.ts_ms, m.category, t.ntok, t.data FROM memory_terms t JOIN memories m ON m.rowid = t.rowid ORDER BY t.rowid').raw()
    for (const [rowid, tsMs, category, ntok, data] of rows.iterate() as Iterable<[number, number, string, number, Buffer]>) {
      // Copied out: a Buffer from SQLite need not be 4-byte aligned for an Int32Array view.
      const pairs = new Int32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))
      docs.push({rowid, tsMs, category, ntok, pairs})
    }
    fresh.add(docs)
    return fresh
  }

  const queryToken = (text: string): string | null => {
    let token = queryTokens.get(text)
    if (token === undefined) {
      if (queryTokens.size >= QUERY_TOKEN_CACHE) queryTokens.clear()
      queryTokens.set(text, (token = probe.queryToken(text)))
    }
    return token
  }

  return {
    /** Tokenises and stores a row's terms (inside the caller's transaction); returns it for the ranker. */
    store(rowid: number, row: IndexedText & {ts_ms: number}): RankDoc {
      const {terms, ntok} = probe.rowTerms(row)
      const pairs = new Int32Array(terms.size * 2)
      let i = 0
      for (const [term, weight] of terms) {
        pairs[i++] = idOf(term)
        pairs[i++] = weight
      }
      insertTerms.run(rowid, ntok, Buffer.from(pairs.buffer))
      return {rowid, tsMs: row.ts_ms, category: row.category, ntok, pairs}
    },

    /** The ranker when loaded (writes update it), else null. */
    ranker: () => ranker,

    /** The ranker, loaded (or reloaded when deletions left it mostly dead slots). */
    loadedRanker(): Ranker {
      if (!ranker || ranker.wasteful()) ranker = loadRanker()
      return ranker
    },

    /** Forgets the cached vocabulary and ranker (after a failed write). */
    reset(): void {
      vocab = null
      ranker = null
    },

    /**
     * The ranker's phrases for recall terms, or null when a term is not a single token (a quoted
     * phrase, of several words, or a word FTS5 splits such as `resolv.conf`): those need positions, so FTS5 ranks them.
     */
    phrases(recallTerms: readonly RecallTerm[]): RankPhrase[] | null {
      const phrases: RankPhrase[] = []
      for (const term of recallTerms) {
        const token = queryToken(term.text)
        if (token === null) return null
        phrases.push({kind: term.kind === 'prefix' ? 'prefix' : 'term', token})
      }
      return phrases
    },
  }
}
