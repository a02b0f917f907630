import {lstat, readdir, readlink, realpath} from 'node:fs/promises'
import {basename, resolve} from 'node:path'
import {z} from 'zod'
import {OsmodaError, UsageError} from '../../../lib/errors.js'
import {runProcess} from '../../../lib/exec/run.js'
import {limit} from '../../../lib/schema/primitives.js'
import {SYSTEMCTL_TIMEOUT_MS, systemdAvailable} from './discover.js'
import {readDisks, readHostname, readUptime} from './host.js'
import {isoMs} from './proc-fs.js'
import type {DiskUsage, UptimeInfo} from './host.js'
import {listProcesses} from './processes.js'
import type {ProcessInfo} from './processes.js'
import {listConnections, listListeningPorts} from './sockets.js'
import type {Connection, ListeningPort} from './sockets.js'

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

const QUERY_ARGS: Record<SystemQueryName, z.ZodType> = {
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

/** The answer of POST /system/query, by query. */
export type SystemQueryOutput =
  | {query: 'processes'; result: ProcessInfo[]}
  | {query: 'disk'; result: DiskUsage[]}
  | {query: 'hostname'; result: {hostname: string}}
  | {query: 'uptime'; result: UptimeInfo}
  | {query: 'services'; result: ServiceUnit[]}
  | {query: 'ports'; result: ListeningPort[]}
  | {query: 'connections'; result: Connection[]}
  | {query: 'generations'; result: Generation[]}

/** `args` validated for `query`, with defaults applied and limits clamped; throws VALIDATION_FAILED. */
export function parseQueryArgs<S extends z.ZodType>(schema: S, args: unknown): z.output<S> {
  const parsed = schema.safeParse(args ?? {})
  if (parsed.success) return parsed.data
  const details = parsed.error.issues.map((issue) => `${['args', ...issue.path].join('.')}: ${issue.message}`)
  throw new UsageError(`invalid system_query args: ${details.join('; ')}`, {details})
}

/** The `systemctl list-units --plain --no-legend` lines as unit rows. */
export function parseServiceUnits(text: string): ServiceUnit[] {
  const units: ServiceUnit[] = []
  for (const line of text.split('\n')) {
    const [unit, load, active, sub, ...description] = line.trim().split(/\s+/)
    if (!unit || !load || !active || !sub) continue
    units.push({unit, load_state: load, active_state: active, sub_state: sub, description: description.join(' ')})
  }
  return units
}

/** Service units from systemctl; SYSTEMD_UNAVAILABLE when systemd is not PID 1. */
export async function listServiceUnits(args: z.output<typeof ServicesArgs>): Promise<ServiceUnit[]> {
  if (!(await systemdAvailable())) {
    throw new OsmodaError('SYSTEMD_UNAVAILABLE', 'systemd is not PID 1 on this host, so there are no service units to list', {
      hint: 'Use system_query "processes" or "ports" to see what runs here; without systemd, osmoda up supervises the daemons.',
    })
  }
  const filter = args.state === 'all' ? ['--all'] : [`--state=${args.state}`]
  const argv = ['systemctl', 'list-units', '--type=service', '--no-legend', '--plain', '--no-pager', ...filter]
  const result = await runProcess(argv, {timeoutMs: SYSTEMCTL_TIMEOUT_MS})
  if (result.timedOut) throw new OsmodaError('UPSTREAM_TIMEOUT', `systemctl list-units did not answer within ${SYSTEMCTL_TIMEOUT_MS / 1000} s`)
  if (result.exitCode !== 0) {
    throw new OsmodaError('UPSTREAM_FAILED', `systemctl list-units failed (exit ${result.exitCode ?? result.signal}): ${result.stderr.trim().slice(0, 500)}`)
  }
  return parseServiceUnits(result.stdout).slice(0, args.limit)
}

/**
 * NixOS system generations, newest first, from the `system-<N>-link` links of the system profile;
 * [] when there is no such profile (not NixOS). `current` is the one `system` points to, `booted`
 * the one `/run/booted-system` resolves to.
 */
export async function listGenerations(options: {profilesDir?: string; bootedLink?: string} = {}): Promise<Generation[]> {
  const dir = options.profilesDir ?? '/nix/var/nix/profiles'
  const currentLink = await readlink(`${dir}/system`).catch(() => null)
  if (currentLink === null) return []
  const booted = await realpath(options.bootedLink ?? '/run/booted-system').catch(() => null)
  const generations: Generation[] = []
  for (const entry of await readdir(dir)) {
    const match = /^system-(\d+)-link$/.exec(entry)
    if (!match) continue
    const link = `${dir}/${entry}`
    // A link removed by garbage collection meanwhile is simply not listed.
    const [info, target, resolved] = await Promise.all([lstat(link).catch(() => null), readlink(link).catch(() => null), realpath(link).catch(() => null)])
    if (!info || target === null) continue
    generations.push({
      number: Number(match[1]),
      path: resolve(dir, target),
      created_at: isoMs(info.mtimeMs),
      current: basename(currentLink) === entry,
      booted: booted !== null && resolved === booted,
    })
  }
  return generations.sort((a, b) => b.number - a.number)
}

/** Answers one `system_query`; `args` are validated for the query (VALIDATION_FAILED otherwise). */
export async function runSystemQuery(query: string, args: unknown = {}): Promise<SystemQueryOutput> {
  if (!(SYSTEM_QUERIES as readonly string[]).includes(query)) {
    throw new UsageError(`unknown query "${query}"`, {details: [`query: expected one of ${SYSTEM_QUERIES.join(', ')}`]})
  }
  const name = query as SystemQueryName
  if (name === 'processes') return {query: name, result: await listProcesses(parseQueryArgs(ProcessesArgs, args))}
  if (name === 'services') return {query: name, result: await listServiceUnits(parseQueryArgs(ServicesArgs, args))}
  if (name === 'connections') return {query: name, result: await listConnections(parseQueryArgs(ConnectionsArgs, args))}
  parseQueryArgs(QUERY_ARGS[name], args)
  switch (name) {
    case 'disk':
      return {query: name, result: await readDisks()}
    case 'hostname':
      return {query: name, result: {hostname: readHostname()}}
    case 'uptime':
      return {query: name, result: await readUptime()}
    case 'ports':
      return {query: name, result: await listListeningPorts()}
    case 'generations':
      return {query: name, result: await listGenerations()}
  }
}
