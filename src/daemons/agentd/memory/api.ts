import {z} from 'zod'
import {route} from '../../../lib/rpc/route.js'
import {IsoTime, limit} from '../../../lib/schema/primitives.js'
import {CATEGORY_RE} from './files.js'
import {isTimeframe} from './query.js'

const O = ['operator'] as const
const OA = ['operator', 'agent'] as const

const Category = z.string().regex(CATEGORY_RE, 'expected a lowercase directory name: [a-z0-9][a-z0-9_-]{0,63} (no dots or slashes)')
const Tag = z.string().min(1).max(64).refine((tag) => [...tag].every((c) => c >= ' ' && c !== '\u007f'), 'no control characters')
const Summary = z.string().min(1).max(2000)
const Detail = z.string().max(64_000)

/** Input of POST /memory/store: the `memory_store` tool's parameters. */
export const MemoryStoreInput = z.strictObject({
  summary: Summary.describe('One or two sentences the future you will search for: what happened, what fixed it, what the operator prefers'),
  detail: Detail.optional().describe('Longer notes: commands run, error text, reasoning (at most 64000 characters)'),
  category: Category.default('general').describe('A lowercase bucket such as "incident", "preference", "diagnosis", "fix" (default "general")'),
  tags: z.array(Tag).max(32).optional().describe('Up to 32 short labels, e.g. the unit or host involved ("nginx", "disk")'),
})

/** Input of POST /memory/ingest: events other daemons turn into memories. */
export const MemoryIngestInput = z.strictObject({
  summary: Summary,
  detail: Detail.optional(),
  category: Category,
  subcategory: z.string().min(1).max(64).optional(),
  source: z.string().min(1).max(64),
  tags: z.array(Tag).max(32).optional(),
  metadata: z
    .record(z.string().max(128), z.unknown())
    .refine((value) => Buffer.byteLength(JSON.stringify(value)) <= 16 * 1024, 'at most 16 KiB of JSON')
    .optional(),
})

/** Input of POST /memory/recall: the `memory_recall` tool's parameters. */
export const MemoryRecallInput = z.strictObject({
  query: z.string().min(1).max(512).describe('Words to look for (stemmed: "restarting" finds "restart"), "exact phrases" and prefix* terms; any term may match, best matches first'),
  max_results: limit(10, 100).describe('How many memories to return (default 10, at most 100; larger values are clamped)'),
  timeframe: z
    .string()
    .max(40)
    .refine(isTimeframe, 'expected a duration (24h, 7d, 30m), an RFC 3339 instant or a UTC calendar prefix YYYY, YYYY-MM, YYYY-MM-DD')
    .optional()
    .describe('Only memories from this window: "24h", "7d", "30m" (until now), an RFC 3339 instant (since then) or "2026", "2026-11", "2026-11-25"'),
  category: Category.optional().describe('Only memories of this category'),
  tags: z.array(Tag).max(32).optional().describe('Only memories carrying every one of these tags'),
})

/** One recalled memory. */
export const RecalledMemory = z.object({
  id: z.string(),
  ts: IsoTime,
  category: z.string(),
  subcategory: z.string().nullable(),
  source: z.string(),
  agent_id: z.string().nullable(),
  summary: z.string(),
  detail: z.string(),
  tags: z.array(z.string()),
  relevance: z.number().describe('Score relative to the best match (1 = best)'),
})

/** Output of POST /memory/recall. */
export const MemoryRecallOutput = z.object({
  query: z.string(),
  memories: z.array(RecalledMemory),
  total_matches: z.number().int().describe('Matches after the filters, before max_results'),
  truncated: z.boolean().describe('True when more memories matched than were returned'),
})

/** Output of GET /memory/health. */
export const MemoryHealth = z.object({
  status: z.enum(['ok', 'degraded', 'reindexing']),
  memory_count: z.number().int(),
  index_ok: z.boolean(),
  dir: z.string(),
  last_reindex_at: IsoTime.nullable(),
  vector_search: z.literal('not_available'),
})

/** The memory routes of agentd (SPEC §2.1). */
export const memoryApi = {
  memoryStore: route('POST', '/memory/store', {
    input: MemoryStoreInput,
    output: z.object({id: z.string(), seq: z.number().int(), path: z.string()}),
    roles: OA,
  }),
  memoryIngest: route('POST', '/memory/ingest', {input: MemoryIngestInput, output: z.object({id: z.string(), seq: z.number().int()}), roles: O}),
  memoryRecall: route('POST', '/memory/recall', {input: MemoryRecallInput, output: MemoryRecallOutput, roles: OA}),
  memoryHealth: route('GET', '/memory/health', {output: MemoryHealth, roles: OA}),
  memoryReindex: route('POST', '/memory/reindex', {
    output: z.object({state: z.literal('running')}),
    roles: O,
    status: 202,
    summary: 'Rebuild the memory index from the markdown files',
  }),
} as const
