import {lstat, readdir, readlink, realpath} from 'node:fs/promises'
import {basename, resolve} from 'node:path'
import type {z} from 'zod'
import {OsmodaError, UsageError} from '../../../lib/errors.js'
import {runProcess} from '../../../lib/exec/run.js'
import {SYSTEMCTL_TIMEOUT_MS, systemdAvailable} from './discover.js'
import {readDisks, readHostname, readUptime} from './host.js'
import {isoMs} from './proc-fs.js'
import {listProcesses} from './processes.js'
import {listConnections, listListeningPorts} from './sockets.js'
import {ConnectionsArgs, ProcessesArgs, QUERY_ARGS, SYSTEM_QUERIES, ServicesArgs, type Generation, type ServiceUnit, type SystemQueryName, type SystemQueryOutput} from './query-schema.js'

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
