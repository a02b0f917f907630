import type Database from 'better-sqlite3'

/*
 * Tokenising exactly as the index does: a temp FTS5 table with the same columns and tokenizer
 * receives one row, and its fts5vocab('col') view lists (term, column, count); then the row is
 * dropped again. Re-implementing porter + unicode61 in TypeScript would drift from FTS5 in corner
 * cases (diacritics, separators, stemming rules), and a term spelled differently from FTS5's would
 * silently never match. Costs ~75 µs CPU per memory, paid once when a memory is indexed.
 */

/** Column weights of bm25(memories_fts, 3.0, 2.0, 1.0, 1.0) (SPEC §2.1 Memory). */
export const COLUMN_WEIGHTS: Readonly<Record<string, number>> = {summary: 3, tags: 2, detail: 1, category: 1}

/** The indexed text of one memory row, as the FTS5 table receives it. */
export interface IndexedText {
  summary: string
  tags: string
  detail: string
  category: string
}

/** A row's terms: weighted frequency per term and the row's token count. */
export interface RowTerms {
  terms: Map<string, number>
  ntok: number
}

/** Creates the temp probe tables on `db` (per connection) and returns the tokenizer. */
export function createTokenProbe(db: Database.Database) {
  db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp.memory_probe USING fts5(summary, tags, detail, category, tokenize='porter unicode61', content='');
    CREATE VIRTUAL TABLE IF NOT EXISTS temp.memory_probe_terms USING fts5vocab(temp, memory_probe, 'col');`)
  const insert = db.prepare('INSERT INTO temp.memory_probe(rowid, summary, tags, detail, category) VALUES (1, @summary, @tags, @detail, @category)')
  // One JSON row rather than a row per term: fts5vocab rows cost more to hand to JS one by one.
  const read = db.prepare('SELECT json_group_array(json_array(term, col, cnt)) FROM temp.memory_probe_terms').pluck()
  const clear = db.prepare("INSERT INTO temp.memory_probe(memory_probe) VALUES ('delete-all')")

  const rowTerms = (text: IndexedText): RowTerms => {
    insert.run(text)
    try {
      const terms = new Map<string, number>()
      let ntok = 0
      for (const [term, col, cnt] of JSON.parse(read.get() as string) as [string, string, number][]) {
        terms.set(term, (terms.get(term) ?? 0) + COLUMN_WEIGHTS[col]! * cnt)
        ntok += cnt
      }
      return {terms, ntok}
    } finally {
      clear.run()
    }
  }

  return {
    rowTerms,
    /** The one token a query word becomes, or null when it yields none or several (a phrase). */
    queryToken(text: string): string | null {
      const {terms, ntok} = rowTerms({summary: text, tags: '', detail: '', category: ''})
      return ntok === 1 ? [...terms.keys()][0]! : null
    },
  }
}

/** A token probe bound to one connection. */
export type TokenProbe = ReturnType<typeof createTokenProbe>
