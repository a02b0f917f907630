import {z} from 'zod'
import {limit} from '../../../lib/schema/primitives.js'
import type {DiskUsage, UptimeInfo} from './host.js'
import type {ProcessInfo} from './processes.js'
import type {Connection, ListeningPort} from './sockets.js'

// The contract of POST /system/query, apart from the code that answers it, so api.ts (and every
// client that imports it) does not load the /proc readers.

/** The queries of the `system_query` tool (SPEC §3). */
export const SYSTEM_QUERIES = ['processes', 'disk', 'hostname', 'uptime', 'services', 'ports', 'connections', 'generations'] as const

/** One of SYSTEM_QUERIES. */
export type SystemQueryName = (typeof SYSTEM_QUERIES)[number]

/** A strict args object whose unknown keys are named as not belonging to `query`. */
function argsObject<S extends z.ZodRawShape>(query: SystemQueryName, shape: S) {
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `not an argument of the ${query} query: ${issue.keys.join(', ')}` : undefined),
  })
}

/** Args of the `processes` query. */
export const ProcessesArgs = argsObject('processes', {
  sort: z.enum(['cpu', 'memory']).default('cpu').describe('Order by CPU use (percent since start) or resident memory, highest first'),
  limit: limit(50, 500),
  name: z.string().min(1).max(64).optional().describe('Only processes whose name or command line contains this text (case-insensitive)'),
})

/** Args of the `services` query. */
export const ServicesArgs = argsObject('services', {
  state: z.enum(['running', 'failed', 'all']).default('running').describe('Which service units: running (default), failed, or all loaded'),
  limit: limit(200, 1000),
})

/** Args of the `connections` query. */
export const ConnectionsArgs = argsObject('connections', {limit: limit(200, 2000)})

/** Each query's own strict args schema. */
export const QUERY_ARGS: Record<SystemQueryName, z.ZodType> = {
  processes: ProcessesArgs,
  disk: argsObject('disk', {}),
  hostname: argsObject('hostname', {}),
  uptime: argsObject('uptime', {}),
  services: ServicesArgs,
  ports: argsObject('ports', {}),
  connections: ConnectionsArgs,
  generations: argsObject('generations', {}),
}

/** Every arg any query takes, so the tool schema shows the agent the whole menu; each query checks its own. */
const AnyQueryArgs = z.strictObject({
  sort: z.enum(['cpu', 'memory']).optional().describe('processes: order by "cpu" (default) or "memory", highest first'),
  limit: z
    .number()
    .optional()
    .describe('processes: 1..500 (default 50); services: 1..1000 (default 200); connections: 1..2000 (default 200). Larger values are clamped'),
  name: z.string().optional().describe('processes: only those whose name or command line contains this text (case-insensitive, ≤64 chars)'),
  state: z.enum(['running', 'failed', 'all']).optional().describe('services: "running" (default), "failed" or "all" loaded units'),
})

/** Input of POST /system/query, i.e. the `system_query` tool; args are validated per query. */
export const SystemQueryInput = z
  .strictObject({
    query: z
      .enum(SYSTEM_QUERIES)
      .describe(
        'What to read: processes (top by cpu/memory), disk (usage per filesystem), hostname, uptime, services (systemd units; needs systemd), ports (listening TCP/UDP with owning process), connections (open TCP/UDP connections), generations (NixOS system generations; [] without Nix)',
      ),
    args: AnyQueryArgs.default({}).describe('Options for the chosen query; only processes, services and connections take any'),
  })
  .superRefine((input, ctx) => {
    const parsed = QUERY_ARGS[input.query].safeParse(input.args)
    if (parsed.success) return
    for (const issue of parsed.error.issues) ctx.addIssue({...issue, path: ['args', ...issue.path]} as z.core.$ZodRawIssue)
  })

/** One systemd service unit as `services` returns it. */
export interface ServiceUnit {
  unit: string
  load_state: string
  active_state: string
  sub_state: string
  description: string
}

/** One NixOS system generation as `generations` returns it. */
export interface Generation {
  number: number
  /** The store path the generation link points to. */
  path: string
  created_at: string
  current: boolean
  booted: boolean
}

const ProcessRow = z.object({
  pid: z.number().int(),
  ppid: z.number().int(),
  name: z.string(),
  user: z.string(),
  cpu_usage: z.number().describe('Percent of one CPU averaged since the process started'),
  memory: z.number().describe('Resident memory in bytes'),
  status: z.string(),
  start_time: z.string(),
  command: z.string(),
})
const DiskRow = z.object({mount_point: z.string(), filesystem: z.string(), fstype: z.string(), total: z.number(), used: z.number(), available: z.number()})
const ServiceRow = z.object({unit: z.string(), load_state: z.string(), active_state: z.string(), sub_state: z.string(), description: z.string()})
const PortRow = z.object({proto: z.enum(['tcp', 'udp']), address: z.string(), port: z.number().int(), pid: z.number().int().nullable(), process: z.string().nullable()})
const ConnectionRow = z.object({proto: z.enum(['tcp', 'udp']), local: z.string(), remote: z.string(), state: z.string(), pid: z.number().int().nullable(), process: z.string().nullable()})
const GenerationRow = z.object({number: z.number().int(), path: z.string(), created_at: z.string(), current: z.boolean(), booted: z.boolean()})

/**
 * Output of POST /system/query. MCP wants an object at the top of an output schema, so this is one
 * object whose `result` is the union of the per-query shapes; `query` says which one it is.
 */
export const SystemQueryOutputSchema = z.object({
  query: z.enum(SYSTEM_QUERIES),
  result: z
    .union([
      z.array(ProcessRow),
      z.array(DiskRow),
      z.object({hostname: z.string()}),
      z.object({uptime_secs: z.number(), boot_time: z.string()}),
      z.array(ServiceRow),
      z.array(PortRow),
      z.array(ConnectionRow),
      z.array(GenerationRow),
    ])
    .describe('processes/disk/services/ports/connections/generations: a list of rows; hostname: {hostname}; uptime: {uptime_secs, boot_time}'),
})

/** The answer of POST /system/query, by query (the implementation's types; the schema above checks them). */
export type SystemQueryOutput =
  | {query: 'processes'; result: ProcessInfo[]}
  | {query: 'disk'; result: DiskUsage[]}
  | {query: 'hostname'; result: {hostname: string}}
  | {query: 'uptime'; result: UptimeInfo}
  | {query: 'services'; result: ServiceUnit[]}
  | {query: 'ports'; result: ListeningPort[]}
  | {query: 'connections'; result: Connection[]}
  | {query: 'generations'; result: Generation[]}
