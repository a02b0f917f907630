import {existsSync, renameSync, rmSync} from 'node:fs'
import Database from 'better-sqlite3'
import type {MemoryRecord} from './files.js'
import {toFtsQuery, type RecallTerm, type TimeWindow} from './query.js'
import type {RankFilter, RankPhrase, Ranker} from './ranker.js'
import {createTermStore} from './term-store.js'

/*
 * The index is a separate, derived database, `<state>/agentd/memory-index.db`, not tables in
 * agentd.db: the markdown files are the ground truth, so the index is disposable. Deleting the file
 * is a full rebuild; a corrupt index is replaced by unlinking it, without touching incidents or
 * approvals in agentd.db; a rebuild fills a fresh file beside the live one and renames it over, so
 * recall keeps answering from the old index meanwhile. It also keeps agentd.db's migration list
 * free of a schema that is rebuilt rather than migrated.
 *
 * Recall (goal: p95 < 10 ms at 100k memories; docs/memory.md has the whole story). FTS5 ranks an
 * OR query by calling bm25() on every row matching any term, and computes each phrase's IDF by
 * walking its whole doclist; a common word matches most rows, so at 100k rows recall cost 48 ms
 * CPU at p50 and 105 ms at p95 (bench/memory.js). Measured and rejected: `ORDER BY rank LIMIT`
 * (FTS5 still scores every row, then sorts through a second cursor: 110 ms vs 53 ms CPU for a
 * common + a rare word), `optimize` (the bulk-built index is already one segment: no change),
 * MaxScore over FTS5 (any FTS5 bm25 call on a query holding a common word walks that word's
 * doclist for its IDF: 3.5 ms for 11 rows, and 5.7 ms just to count that word's rows). Kept: every row's
 * FTS5 tokens with their weighted frequencies are stored in `memory_terms` (term-store.ts), an
 * in-memory ranker (ranker.ts) holds them as postings and computes the same bm25 over typed arrays,
 * bit-identical to FTS5's on x86-64 (tests compare with `recallExhaustive` on generated corpora).
 * Quoted phrases and words FTS5 splits (`resolv.conf`) need positions and stay on FTS5. 100k rows,
 * same machine and run: CPU p50 47.8 → 2.0 ms, p95 104.6 → 3.8 ms. Costs: ~75 µs CPU more per
 * stored memory, the file grows ~40%, the ranker takes ~1.2 s CPU to load and ~45 MB of typed
 * arrays at 100k (0.16 s and ~5 MB at 10k), loaded when the service opens the index.
 */

/** Bumped whenever the schema below changes: an index of another version is rebuilt. */
export const INDEX_VERSION = 2

const SCHEMA = `
CREATE TABLE memories (
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  ts TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  category TEXT NOT NULL,
  subcategory TEXT,
  source TEXT NOT NULL,
  agent_id TEXT,
  tags TEXT NOT NULL,
  summary TEXT NOT NULL,
  detail TEXT NOT NULL,
  path TEXT NOT NULL UNIQUE,
  mtime_ms INTEGER NOT NULL,
  size INTEGER NOT NULL
);
CREATE INDEX memories_ts ON memories(ts_ms);
CREATE INDEX memories_category ON memories(category, ts_ms);
CREATE TABLE memory_tags (tag TEXT NOT NULL, memory_rowid INTEGER NOT NULL, PRIMARY KEY (tag, memory_rowid)) WITHOUT ROWID;
CREATE VIRTUAL TABLE memories_fts USING fts5(summary, tags, detail, category, content='memories', content_rowid='rowid', tokenize='porter unicode61');
CREATE TRIGGER memories_ai AFTER INSERT ON memories BEGIN
  INSERT INTO memories_fts(rowid, summary, tags, detail, category) VALUES (new.rowid, new.summary, new.tags, new.detail, new.category);
  INSERT OR IGNORE INTO memory_tags(tag, memory_rowid) SELECT value, new.rowid FROM json_each(new.tags);
END;
CREATE TRIGGER memories_ad AFTER DELETE ON memories BEGIN
  INSERT INTO memories_fts(memories_fts, rowid, summary, tags, detail, category) VALUES ('delete', old.rowid, old.summary, old.tags, old.detail, old.category);
  DELETE FROM memory_tags WHERE memory_rowid = old.rowid;
  DELETE FROM memory_terms WHERE rowid = old.rowid;
END;
CREATE TABLE memory_vocab (id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE);
CREATE TABLE memory_terms (rowid INTEGER PRIMARY KEY, ntok INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE index_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`

/** A file's identity as the index last saw it. */
export interface IndexedFile {
  path: string
  mtime_ms: number
  size: number
}

/** One recall hit. */
export interface RecallHit {
  id: string
  ts: string
  category: string
  subcategory: string | null
  source: string
  agent_id: string | null
  summary: string
  detail: string
  tags: string[]
  score: number
}

/** Filters applied in SQL before the LIMIT. */
export interface RecallFilter {
  terms: readonly RecallTerm[]
  limit: number
  window?: TimeWindow
  category?: string
  tags?: readonly string[]
}

/** Ranked hits, the number of filtered matches, and which engine ranked them. */
export interface RecallResult {
  hits: RecallHit[]
  total: number
  via: 'ranker' | 'fts5'
}

/** The derived full-text index of the memory files. */
export interface MemoryIndex {
  readonly path: string
  /** Inserts or replaces the row of one memory file. False when another file already has that id. */
  upsert(memory: MemoryRecord, file: IndexedFile): boolean
  /** Inserts many rows in one transaction (rebuilds and benchmarks); duplicates are skipped. */
  insertMany(rows: readonly {memory: MemoryRecord; file: IndexedFile}[]): number
  removePath(path: string): void
  files(): IndexedFile[]
  count(): number
  /** The bm25 top hits: the in-memory ranker when every term is one token or prefix, else FTS5. */
  recall(filter: RecallFilter): RecallResult
  /** The same ranking computed by FTS5 alone over every match: the reference `recall` is tested against. */
  recallExhaustive(filter: RecallFilter): RecallResult
  /** Loads the ranker now (about 1 s of CPU at 100k memories) rather than at the first recall. */
  warm(): void
  /** SQLite's and FTS5's own integrity checks. */
  check(): boolean
  getMeta(key: string): string | null
  setMeta(key: string, value: string): void
  close(): void
}

/** Opens (creating) an index file; throws when it is not a usable index of this version. */
export function openMemoryIndex(path: string): MemoryIndex {
  const db = new Database(path)
  try {
    db.pragma('journal_mode = WAL')
    // A derived index: a crash loses at most what the next scan re-reads from the files.
    db.pragma('synchronous = NORMAL')
    db.pragma('busy_timeout = 5000')
    // The tokenizer probe (tokens.ts) is a temp FTS5 table: keep it off the disk and out of /tmp.
    db.pragma('temp_store = MEMORY')
    const version = db.pragma('user_version', {simple: true}) as number
    const empty = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as {n: number}).n === 0
    if (empty) {
      db.transaction(() => {
        db.exec(SCHEMA)
        db.pragma(`user_version = ${INDEX_VERSION}`)
      })()
    } else if (version !== INDEX_VERSION) {
      throw new Error(`memory index version ${version}, expected ${INDEX_VERSION}`)
    }
  } catch (error) {
    db.close()
    throw error
  }
  return wrap(db, path)
}

/** Removes an index file and its WAL/SHM companions. */
export function removeIndexFiles(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, {force: true})
}

/** Moves a finished index file (closed) over `target`. */
export function replaceIndexFile(source: string, target: string): void {
  for (const suffix of ['-wal', '-shm']) rmSync(target + suffix, {force: true})
  renameSync(source, target)
}

/** True when an index file exists at `path`. */
export function indexExists(path: string): boolean {
  return existsSync(path)
}

type Row = Omit<RecallHit, 'tags'> & {tags: string}

function wrap(db: Database.Database, path: string): MemoryIndex {
  const insert = db.prepare(
    `INSERT INTO memories (id, ts, ts_ms, category, subcategory, source, agent_id, tags, summary, detail, path, mtime_ms, size)
     VALUES (@id, @ts, @ts_ms, @category, @subcategory, @source, @agent_id, @tags, @summary, @detail, @path, @mtime_ms, @size)`,
  )
  const byId = db.prepare('SELECT path FROM memories WHERE id = ?').pluck()
  const rowidOfPath = db.prepare('SELECT rowid FROM memories WHERE path = ?').pluck()
  const deletePath = db.prepare('DELETE FROM memories WHERE path = ?')
  const getMeta = db.prepare('SELECT value FROM index_meta WHERE key = ?').pluck()
  const setMeta = db.prepare('INSERT INTO index_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
  const byRowid = db.prepare('SELECT id, ts, category, subcategory, source, agent_id, summary, detail, tags FROM memories WHERE rowid = ?')
  const statements = new Map<string, Database.Statement>()
  const terms = createTermStore(db)

  // Ranker changes made inside a transaction are applied once it commits; a failed write drops
  // the ranker (reloaded from the tables at the next recall) rather than guess what was rolled back.
  let pending: (() => void)[] = []
  const afterCommit = <A extends unknown[], R>(fn: (...args: A) => R) => (...args: A): R => {
    pending = []
    try {
      const result = fn(...args)
      for (const apply of pending) apply()
      return result
    } catch (error) {
      terms.reset()
      throw error
    } finally {
      pending = []
    }
  }

  const removeOne = (p: string): void => {
    const rowid = rowidOfPath.get(p) as number | undefined
    if (rowid === undefined) return
    deletePath.run(p)
    pending.push(() => terms.ranker()?.remove(rowid))
  }

  const insertOne = (memory: MemoryRecord, file: IndexedFile): boolean => {
    removeOne(file.path)
    const holder = byId.get(memory.id) as string | undefined
    if (holder !== undefined) return false
    const row = {
      id: memory.id,
      ts: memory.ts,
      ts_ms: Date.parse(memory.ts),
      category: memory.category,
      subcategory: memory.subcategory,
      source: memory.source,
      agent_id: memory.agent_id,
      tags: JSON.stringify(memory.tags),
      summary: memory.summary,
      detail: memory.detail,
      path: file.path,
      mtime_ms: file.mtime_ms,
      size: file.size,
    }
    const rowid = Number(insert.run(row).lastInsertRowid)
    const doc = terms.store(rowid, row)
    pending.push(() => terms.ranker()?.add([doc]))
    return true
  }
  const upsertTx = afterCommit(db.transaction(insertOne))
  const manyTx = afterCommit(db.transaction((rows: readonly {memory: MemoryRecord; file: IndexedFile}[]) => rows.filter((r) => insertOne(r.memory, r.file)).length))
  const removeTx = afterCommit(db.transaction(removeOne))

  const tagSql = (count: number) =>
    `SELECT memory_rowid FROM memory_tags WHERE tag IN (${Array.from({length: count}, (_, i) => `@tag${i}`).join(', ')}) GROUP BY memory_rowid HAVING count(*) = ${count}`

  const recallStatement = (filter: RecallFilter): Database.Statement => {
    const where = ['memories_fts MATCH @match']
    if (filter.window) where.push('m.ts_ms >= @from_ms AND m.ts_ms < @to_ms')
    if (filter.category !== undefined) where.push('m.category = @category')
    const tagCount = filter.tags?.length ?? 0
    if (tagCount) where.push(`m.rowid IN (${tagSql(tagCount)})`)
    const key = where.join(' AND ')
    let statement = statements.get(key)
    if (!statement) {
      // Rank and count every filtered hit on the rowid alone, then fetch the text of the top few.
      // Without filters the FTS table is scanned alone: joining every hit to memories doubles the
      // cost of a common term. Ties break on rowid (newest first): rebuilds insert in id order,
      // which is creation order, so a rebuilt index ranks ties as the original did.
      const hits =
        where.length === 1
          ? `SELECT rowid AS rid, bm25(memories_fts, 3.0, 2.0, 1.0, 1.0) AS rank FROM memories_fts WHERE ${key}`
          : `SELECT memories_fts.rowid AS rid, bm25(memories_fts, 3.0, 2.0, 1.0, 1.0) AS rank FROM memories_fts JOIN memories m ON m.rowid = memories_fts.rowid WHERE ${key}`
      statement = db.prepare(
        `WITH hits AS MATERIALIZED (${hits}),
         top AS (SELECT rid, rank, count(*) OVER () AS total FROM hits ORDER BY rank, rid DESC LIMIT @limit)
         SELECT m.id, m.ts, m.category, m.subcategory, m.source, m.agent_id, m.summary, m.detail, m.tags, -top.rank AS score, top.total
         FROM top JOIN memories m ON m.rowid = top.rid
         ORDER BY top.rank, top.rid DESC`,
      )
      statements.set(key, statement)
    }
    return statement
  }

  const tagParams = (tags: readonly string[] | undefined) => Object.fromEntries((tags ?? []).map((tag, i) => [`tag${i}`, tag]))

  const recallExhaustive = (filter: RecallFilter) => {
    const params: Record<string, unknown> = {match: toFtsQuery(filter.terms), limit: filter.limit, ...tagParams(filter.tags)}
    if (filter.window) Object.assign(params, {from_ms: filter.window.fromMs, to_ms: filter.window.toMs})
    if (filter.category !== undefined) params.category = filter.category
    const rows = recallStatement(filter).all(params) as (Row & {total: number})[]
    return {
      via: 'fts5' as const,
      total: rows[0]?.total ?? 0,
      hits: rows.map(({total: _total, tags, ...row}) => ({...row, tags: JSON.parse(tags) as string[]})),
    }
  }

  const recallRanked = (filter: RecallFilter, phrases: RankPhrase[], ranker: Ranker) => {
    const rankFilter: RankFilter = {category: filter.category, fromMs: filter.window?.fromMs, toMs: filter.window?.toMs}
    if (filter.tags?.length) {
      const key = `tags:${filter.tags.length}`
      let statement = statements.get(key)
      if (!statement) statements.set(key, (statement = db.prepare(tagSql(filter.tags.length)).pluck()))
      rankFilter.rowids = new Set(statement.all(tagParams(filter.tags)) as number[])
    }
    const ranked = ranker.search(phrases, filter.limit, rankFilter)
    const hits = ranked.rowids.map((rowid, i) => {
      const {tags, ...row} = byRowid.get(rowid) as Omit<Row, 'score'>
      return {...row, tags: JSON.parse(tags) as string[], score: ranked.scores[i]!}
    })
    return {via: 'ranker' as const, total: ranked.total, hits}
  }

  return {
    path,
    upsert: (memory, file) => upsertTx(memory, file),
    insertMany: (rows) => manyTx(rows),
    removePath: (p) => removeTx(p),
    files: () => db.prepare('SELECT path, mtime_ms, size FROM memories').all() as IndexedFile[],
    count: () => (db.prepare('SELECT count(*) AS n FROM memories').get() as {n: number}).n,
    recall(filter) {
      const phrases = terms.phrases(filter.terms)
      return phrases ? recallRanked(filter, phrases, terms.loadedRanker()) : recallExhaustive(filter)
    },
    recallExhaustive,
    warm: () => void terms.loadedRanker(),
    check() {
      try {
        const result = db.pragma('integrity_check', {simple: true})
        if (result !== 'ok') return false
        db.prepare("INSERT INTO memories_fts(memories_fts, rank) VALUES ('integrity-check', 1)").run()
        // The ranker's term rows must cover the memories exactly, or recall would miss rows.
        const terms = db.prepare('SELECT (SELECT count(*) FROM memories) = (SELECT count(*) FROM memory_terms t JOIN memories m ON m.rowid = t.rowid)').pluck().get()
        if (terms !== 1) return false
        return true
      } catch {
        return false
      }
    },
    getMeta: (key) => (getMeta.get(key) as string | undefined) ?? null,
    setMeta: (key, value) => void setMeta.run(key, value),
    close: () => db.close(),
  }
}
