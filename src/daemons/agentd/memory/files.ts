import {chmodSync, mkdirSync, readFileSync, readdirSync, statSync} from 'node:fs'
import {join, relative, sep} from 'node:path'
import {writeFileAtomic} from '../../../lib/secure-file.js'

/** A memory category: a directory name (SPEC §1.1), so no dots or slashes. */
export const CATEGORY_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/
/** `mem_<ULID>`. */
export const MEMORY_ID_RE = /^mem_[0-7][0-9A-HJKMNP-TV-Z]{25}$/
const DETAIL_HEADING = '## Detail'
const ESCAPED_HEADING = /^(\\*)## Detail$/

/** One memory as its markdown file holds it. */
export interface MemoryRecord {
  id: string
  /** Creation time, RFC 3339 UTC with milliseconds. */
  ts: string
  category: string
  subcategory: string | null
  source: string
  agent_id: string | null
  tags: string[]
  summary: string
  detail: string
  metadata?: Record<string, unknown>
}

/** Where a memory lives below the memory dir: `<category>/<YYYY-MM>/<id>.md`. */
export function memoryRelPath(memory: Pick<MemoryRecord, 'id' | 'ts' | 'category'>): string {
  return join(memory.category, memory.ts.slice(0, 7), `${memory.id}.md`)
}

/**
 * Renders a memory as markdown: YAML front matter whose values are JSON scalars and flow
 * collections (JSON is valid YAML, so any YAML tool reads it), then the summary, then the detail
 * under a `## Detail` heading. A summary line that equals the heading gets one more backslash.
 */
export function renderMemory(memory: MemoryRecord): string {
  const lines = [
    '---',
    `id: ${memory.id}`,
    `ts: ${JSON.stringify(memory.ts)}`,
    `category: ${memory.category}`,
    `subcategory: ${JSON.stringify(memory.subcategory)}`,
    `source: ${JSON.stringify(memory.source)}`,
    `agent_id: ${JSON.stringify(memory.agent_id)}`,
    `tags: ${JSON.stringify(memory.tags)}`,
  ]
  if (memory.metadata && Object.keys(memory.metadata).length) lines.push(`metadata: ${JSON.stringify(memory.metadata)}`)
  lines.push('---', '', memory.summary.split('\n').map((line) => (ESCAPED_HEADING.test(line) ? `\\${line}` : line)).join('\n'), '')
  if (memory.detail) lines.push(DETAIL_HEADING, '', memory.detail, '')
  return lines.join('\n')
}

/** Why a memory file could not be read. */
export class MemoryFileError extends Error {}

/**
 * Parses a memory file (possibly edited by hand). Front matter values may be JSON or plain YAML
 * scalars, flow sequences (`[a, b]`) or block sequences (`- a`). `fallbackId` (the file name) is
 * used when the front matter has no id.
 */
export function parseMemory(text: string, fallbackId?: string): MemoryRecord {
  const match = /^---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)([\s\S]*)$/.exec(text)
  if (!match) throw new MemoryFileError('no YAML front matter')
  const fields = parseFrontMatter(match[1] as string)
  const body = (match[2] as string).replace(/\r\n/g, '\n')
  const bodyLines = body.split('\n')
  const at = bodyLines.indexOf(DETAIL_HEADING)
  const summaryLines = (at === -1 ? bodyLines : bodyLines.slice(0, at)).map((line) => (ESCAPED_HEADING.test(line) ? line.slice(1) : line))
  const summary = summaryLines.join('\n').trim()
  const detail = at === -1 ? '' : bodyLines.slice(at + 1).join('\n').trim()

  const id = str(fields.id) ?? fallbackId
  if (!id || !MEMORY_ID_RE.test(id)) throw new MemoryFileError(`bad id ${JSON.stringify(id)}`)
  const category = str(fields.category)
  if (!category || !CATEGORY_RE.test(category)) throw new MemoryFileError(`bad category ${JSON.stringify(category)}`)
  const ts = normaliseInstant(str(fields.ts) ?? str(fields.created))
  if (!ts) throw new MemoryFileError('bad or missing ts')
  if (!summary) throw new MemoryFileError('empty summary')
  const tags = fields.tags === null || fields.tags === undefined ? [] : fields.tags
  if (!Array.isArray(tags)) throw new MemoryFileError('tags is not a list')
  const metadata = fields.metadata
  return {
    id,
    ts,
    category,
    subcategory: str(fields.subcategory) ?? null,
    source: str(fields.source) ?? 'unknown',
    agent_id: str(fields.agent_id) ?? null,
    tags: [...new Set(tags.map((tag) => String(tag)).filter(Boolean))],
    summary,
    detail,
    ...(metadata && typeof metadata === 'object' && !Array.isArray(metadata) ? {metadata: metadata as Record<string, unknown>} : {}),
  }
}

/** RFC 3339 instant → `YYYY-MM-DDTHH:MM:SS.mmmZ`, or null. */
export function normaliseInstant(text: string | undefined): string | null {
  if (!text || !/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(text)) return null
  const ms = Date.parse(text)
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null
}

function str(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return undefined
}

type FrontValue = string | number | boolean | null | unknown[] | Record<string, unknown>

function parseFrontMatter(text: string): Record<string, FrontValue | undefined> {
  const fields: Record<string, FrontValue | undefined> = {}
  let listKey: string | null = null
  for (const raw of text.split(/\r?\n/)) {
    if (!raw.trim() || raw.trimStart().startsWith('#')) continue
    const item = /^\s+-\s*(.*)$/.exec(raw) ?? (listKey ? /^-\s*(.*)$/.exec(raw) : null)
    if (item && listKey) {
      ;(fields[listKey] as unknown[]).push(scalar((item[1] as string).trim()))
      continue
    }
    const pair = /^([A-Za-z_][A-Za-z0-9_]*)\s*:(?:\s+(.*))?$/.exec(raw)
    if (!pair) throw new MemoryFileError(`front matter line not understood: ${raw.slice(0, 80)}`)
    const key = pair[1] as string
    const value = (pair[2] ?? '').trim()
    listKey = null
    if (value === '') {
      fields[key] = []
      listKey = key
      continue
    }
    fields[key] = scalar(value)
  }
  // A key with nothing after it and no list items is YAML null.
  for (const [key, value] of Object.entries(fields)) if (Array.isArray(value) && value.length === 0 && key !== 'tags') fields[key] = null
  return fields
}

function scalar(value: string): FrontValue {
  if (value.startsWith('"') || value.startsWith('{') || value.startsWith('[')) {
    try {
      return JSON.parse(value) as FrontValue
    } catch {
      if (value.startsWith('[') && value.endsWith(']')) {
        const inner = value.slice(1, -1).trim()
        return inner ? inner.split(',').map((part) => scalar(part.trim())) : []
      }
      if (value.startsWith('"')) throw new MemoryFileError(`bad quoted value ${value.slice(0, 80)}`)
    }
  }
  if (value.startsWith("'") && value.endsWith("'") && value.length >= 2) return value.slice(1, -1).replace(/''/g, "'")
  if (value === 'null' || value === '~') return null
  return value.replace(/\s+#.*$/, '')
}

/** Makes a directory (and parents) with mode 0750 regardless of the umask. */
export function mkdirMemory(dir: string): void {
  const first = mkdirSync(dir, {recursive: true, mode: 0o750})
  if (first === undefined) return
  // mkdirSync returns the first directory it created; chmod it and everything below it.
  let current = dir
  const created: string[] = []
  while (current.length >= first.length) {
    created.push(current)
    current = join(current, '..')
  }
  for (const path of created) chmodSync(path, 0o750)
}

/** Writes a memory's file atomically (mode 0640, dirs 0750); returns its path relative to `root`. */
export function writeMemoryFile(root: string, memory: MemoryRecord): string {
  const rel = memoryRelPath(memory)
  const path = join(root, rel)
  mkdirMemory(join(path, '..'))
  writeFileAtomic(path, renderMemory(memory), 0o640)
  return rel
}

/** A memory file found on disk. */
export interface MemoryFileStat {
  rel: string
  mtimeMs: number
  size: number
}

/** Lists every `<category>/<YYYY-MM>/mem_*.md` below `root`, sorted by path. */
export function listMemoryFiles(root: string): MemoryFileStat[] {
  const out: MemoryFileStat[] = []
  for (const category of safeReaddir(root)) {
    if (!CATEGORY_RE.test(category)) continue
    for (const month of safeReaddir(join(root, category))) {
      if (!/^\d{4}-\d{2}$/.test(month)) continue
      for (const name of safeReaddir(join(root, category, month))) {
        if (!/^mem_[0-9A-Z]{26}\.md$/.test(name)) continue
        const path = join(root, category, month, name)
        try {
          const stat = statSync(path)
          if (stat.isFile()) out.push({rel: relative(root, path).split(sep).join('/'), mtimeMs: Math.floor(stat.mtimeMs), size: stat.size})
        } catch {
          // Deleted between readdir and stat: the next scan drops its row.
        }
      }
    }
  }
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))
}

/** Reads and parses one memory file. */
export function readMemoryFile(root: string, rel: string): MemoryRecord {
  const name = rel.split('/').pop() ?? ''
  return parseMemory(readFileSync(join(root, rel), 'utf8'), name.replace(/\.md$/, ''))
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir).sort()
  } catch {
    return []
  }
}
