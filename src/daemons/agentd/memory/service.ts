import {statSync} from 'node:fs'
import {join} from 'node:path'
import {ConflictError, UsageError} from '../../../lib/errors.js'
import {createUlidGenerator} from '../../../lib/ids.js'
import type {Ledger} from '../../../lib/ledger/ledger.js'
import {redactPayload} from '../../../lib/ledger/redact.js'
import type {Logger} from '../../../lib/log.js'
import {listMemoryFiles, mkdirMemory, readMemoryFile, writeMemoryFile, type MemoryRecord} from './files.js'
import {indexExists, openMemoryIndex, removeIndexFiles, replaceIndexFile, type IndexedFile, type MemoryIndex} from './index.js'
import {parseRecallQuery, parseTimeframe} from './query.js'

/** Dependencies of the memory service. */
export interface MemoryServiceDeps {
  /** `<state>/memory`, the ground truth. */
  dir: string
  /** `<state>/agentd/memory-index.db`, derived. */
  indexPath: string
  ledger: Ledger
  log: Logger
  now?: () => number
}

/** Who stores a memory, derived from the request (never from the body). */
export interface MemoryCaller {
  actor: string
  agentId: string | null
}

/** What the store and ingest routes take. */
export interface NewMemory {
  summary: string
  detail?: string
  category: string
  subcategory?: string
  source?: string
  tags?: readonly string[]
  metadata?: Record<string, unknown>
}

/** What recall takes (the `memory_recall` tool's parameters). */
export interface RecallInput {
  query: string
  max_results: number
  timeframe?: string
  category?: string
  tags?: readonly string[]
}

const BATCH = 500

/**
 * Memory: markdown files first (atomic), then the derived FTS5 index. Opens (or rebuilds) the
 * index at creation; `start` runs the periodic scan that follows hand edits and deletions.
 */
export function createMemoryService(deps: MemoryServiceDeps) {
  const {dir, indexPath, ledger, log} = deps
  const now = deps.now ?? Date.now
  const nextUlid = createUlidGenerator({clock: now})
  mkdirMemory(dir)

  let lastReindexAt: string | null = null
  let reindexing: Promise<void> | null = null
  // The full integrity check reads the whole index, so it runs at start and after each rebuild;
  // in between, a corruption error from SQLite marks the index bad until the next reindex.
  let indexOk = true
  let index = openOrRebuild()

  let timer: NodeJS.Timeout | undefined
  const schedule = (scanSecs: number) => {
    clearInterval(timer)
    timer = setInterval(() => {
      if (reindexing) return
      try {
        const {updated, removed} = scanInto(index)
        if (updated || removed) log.info('memory scan', {updated, removed})
      } catch (error) {
        noteFailure(error)
        log.error('memory scan failed', {error: (error as Error).message})
      }
    }, scanSecs * 1000)
    timer.unref()
  }

  const noteFailure = (error: unknown) => {
    const code = (error as {code?: string}).code ?? ''
    if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') indexOk = false
  }

  function openOrRebuild(): MemoryIndex {
    let reason: string | null = indexExists(indexPath) ? null : 'missing'
    let opened: MemoryIndex | null = null
    if (!reason) {
      try {
        opened = openMemoryIndex(indexPath)
        if (!opened.check()) reason = 'corrupt'
        // The recall ranker loads once, here, instead of stalling the first recall; term rows it
        // cannot read make the index corrupt like any other damage.
        else opened.warm()
      } catch (error) {
        reason = /version/.test((error as Error).message) ? 'schema' : 'corrupt'
      }
    }
    if (!reason && opened) {
      lastReindexAt = opened.getMeta('last_reindex_at')
      scanInto(opened)
      return opened
    }
    opened?.close()
    log.warn('rebuilding the memory index', {reason, index: indexPath})
    removeIndexFiles(indexPath)
    const fresh = openMemoryIndex(indexPath)
    const count = fillSync(fresh)
    fresh.warm()
    recordReindex(fresh, count, reason ?? 'missing')
    return fresh
  }

  function recordReindex(target: MemoryIndex, count: number, reason: string): void {
    lastReindexAt = new Date(now()).toISOString()
    target.setMeta('last_reindex_at', lastReindexAt)
    ledger.append({type: 'memory.reindexed', actor: 'agentd', payload: {count, reason}})
  }

  function loadRows(files: readonly {rel: string; mtimeMs: number; size: number}[]) {
    const rows: {memory: MemoryRecord; file: IndexedFile}[] = []
    for (const file of files) {
      try {
        rows.push({memory: readMemoryFile(dir, file.rel), file: {path: file.rel, mtime_ms: file.mtimeMs, size: file.size}})
      } catch (error) {
        log.warn('memory file skipped', {path: file.rel, reason: (error as Error).message})
      }
    }
    return rows
  }

  function fillSync(target: MemoryIndex): number {
    return target.insertMany(loadRows(filesInIdOrder()))
  }

  // Rows go in in id (= creation) order so that rowids, which break exact score ties, follow the
  // order in which the memories were stored.
  function filesInIdOrder() {
    const name = (rel: string) => rel.slice(rel.lastIndexOf('/') + 1)
    return listMemoryFiles(dir).sort((a, b) => (name(a.rel) < name(b.rel) ? -1 : name(a.rel) > name(b.rel) ? 1 : 0))
  }

  /** Brings the index in line with the files: new or edited (mtime/size) files re-read, vanished ones dropped. */
  function scanInto(target: MemoryIndex): {updated: number; removed: number} {
    const known = new Map(target.files().map((f) => [f.path, f]))
    const changed = []
    for (const file of listMemoryFiles(dir)) {
      const row = known.get(file.rel)
      known.delete(file.rel)
      if (!row || row.mtime_ms !== file.mtimeMs || row.size !== file.size) changed.push(file)
    }
    for (const path of known.keys()) target.removePath(path)
    // An edited file that no longer parses leaves the index: recall must not serve stale text.
    for (const file of changed) target.removePath(file.rel)
    const updated = target.insertMany(loadRows(changed))
    return {updated, removed: known.size}
  }

  async function rebuildInBackground(): Promise<void> {
    const temp = `${indexPath}.rebuild`
    removeIndexFiles(temp)
    const fresh = openMemoryIndex(temp)
    try {
      const files = filesInIdOrder()
      for (let i = 0; i < files.length; i += BATCH) {
        fresh.insertMany(loadRows(files.slice(i, i + BATCH)))
        // Yield between batches so requests keep being served from the old index.
        await new Promise((resolve) => setImmediate(resolve))
      }
    } catch (error) {
      fresh.close()
      removeIndexFiles(temp)
      throw error
    }
    fresh.close()
    index.close()
    replaceIndexFile(temp, indexPath)
    index = openMemoryIndex(indexPath)
    index.warm()
    indexOk = true
    // Memories stored while the rebuild ran went to the old index; their files are picked up here.
    scanInto(index)
    recordReindex(index, index.count(), 'requested')
  }

  const create = (input: NewMemory, caller: MemoryCaller, source: string) => {
    const summary = input.summary.trim()
    if (!summary) throw new UsageError('summary is empty', {details: ['summary: must contain text']})
    const memory: MemoryRecord = {
      id: `mem_${nextUlid()}`,
      ts: new Date(now()).toISOString(),
      category: input.category,
      subcategory: input.subcategory ?? null,
      source,
      agent_id: caller.agentId,
      tags: [...new Set(input.tags ?? [])],
      summary,
      detail: (input.detail ?? '').trim(),
      // Memory never keeps secrets from other daemons' payloads.
      ...(input.metadata ? {metadata: redactPayload(input.metadata)} : {}),
    }
    const rel = writeMemoryFile(dir, memory)
    const stat = statSync(join(dir, rel))
    try {
      index.upsert(memory, {path: rel, mtime_ms: Math.floor(stat.mtimeMs), size: stat.size})
    } catch (error) {
      // The file is the memory: it is stored; a broken index only delays finding it until a reindex.
      noteFailure(error)
      log.error('memory indexed late: the index refused the row', {id: memory.id, error: (error as Error).message})
    }
    return {memory, path: join(dir, rel)}
  }

  return {
    /** POST /memory/store: ledgered as `memory.stored` with ids, category and tags only. */
    store(input: NewMemory, caller: MemoryCaller): {id: string; seq: number; path: string} {
      const {memory, path} = create(input, caller, caller.actor.slice(0, 64))
      const event = ledger.append({type: 'memory.stored', actor: caller.actor, payload: {memory_id: memory.id, category: memory.category, tags: memory.tags}})
      return {id: memory.id, seq: event.seq, path}
    },

    /** POST /memory/ingest: events from other daemons, ledgered as `memory.ingested`. */
    ingest(input: NewMemory & {source: string}, caller: MemoryCaller): {id: string; seq: number} {
      const {memory} = create(input, {...caller, agentId: null}, input.source)
      const event = ledger.append({type: 'memory.ingested', actor: caller.actor, payload: {memory_id: memory.id, category: memory.category, source: memory.source}})
      return {id: memory.id, seq: event.seq}
    },

    recall(input: RecallInput) {
      const terms = parseRecallQuery(input.query)
      const window = input.timeframe === undefined ? undefined : parseTimeframe(input.timeframe, now())
      if (window === null) throw new UsageError(`bad timeframe ${input.timeframe}`, {details: ['timeframe: expected 24h, 7d, 30m, an RFC 3339 instant or YYYY[-MM[-DD]]']})
      let result
      try {
        result = index.recall({terms, limit: input.max_results, window, category: input.category, tags: input.tags})
      } catch (error) {
        noteFailure(error)
        // Terms are quoted before they reach FTS5, so this is a safety net, never a 500.
        if ((error as {code?: string}).code?.startsWith('SQLITE_ERROR')) {
          throw new UsageError(`the recall query could not be searched: ${(error as Error).message}`, {details: ['query: not searchable'], hint: 'use plain words, "phrases" or prefix* terms'})
        }
        throw error
      }
      const best = result.hits[0]?.score ?? 0
      return {
        query: input.query,
        memories: result.hits.map(({score, ...hit}) => ({...hit, relevance: best > 0 ? Math.round((score / best) * 10_000) / 10_000 : 1})),
        total_matches: result.total,
        truncated: result.total > result.hits.length,
      }
    },

    health() {
      const ok = indexOk
      return {
        status: reindexing ? ('reindexing' as const) : ok ? ('ok' as const) : ('degraded' as const),
        memory_count: index.count(),
        index_ok: ok,
        dir,
        last_reindex_at: lastReindexAt,
        vector_search: 'not_available' as const,
      }
    },

    /** POST /memory/reindex: a full rebuild in the background; 409 while one runs. */
    reindex(): {state: 'running'} {
      if (reindexing) throw new ConflictError('a memory reindex is already running', {details: {state: 'running'}, hint: 'watch osmoda memory health until status is ok'})
      reindexing = rebuildInBackground()
        .catch((error: unknown) => log.error('memory reindex failed', {error: (error as Error).message}))
        .finally(() => (reindexing = null))
      return {state: 'running'}
    },

    /** Runs the periodic scan every `scanSecs` until `signal` aborts. */
    start(scanSecs: number, signal: AbortSignal): void {
      const stop = () => {
        clearInterval(timer)
        timer = undefined
      }
      signal.addEventListener('abort', stop, {once: true})
      if (!signal.aborted) schedule(scanSecs)
    },

    /** Changes the scan interval (config reload). */
    setScanSecs(scanSecs: number): void {
      if (timer !== undefined) schedule(scanSecs)
    },

    /** Waits for a running reindex (tests, shutdown). */
    async settle(): Promise<void> {
      await reindexing
    },

    close(): void {
      index.close()
    },
  }
}

/** The memory service's interface. */
export type MemoryService = ReturnType<typeof createMemoryService>
