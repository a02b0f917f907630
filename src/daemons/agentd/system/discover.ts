import {access} from 'node:fs/promises'
import {runProcess} from '../../../lib/exec/run.js'
import {readProcessContext, readProcessInfo} from './processes.js'
import type {ProcessInfo} from './processes.js'
import {mapConcurrent, PROC_CONCURRENCY, readProcText} from './proc-fs.js'
import {isListening, mapSocketOwners, readSockets} from './sockets.js'
import type {NetSocket, SocketOwner} from './sockets.js'

/** Deadline of every systemctl call made while discovering (SPEC: GET /system/discover). */
export const SYSTEMCTL_TIMEOUT_MS = 10_000

/** One listening service found on the host. */
export interface DiscoveredService {
  name: string
  pid: number | null
  port: number
  protocol: 'tcp' | 'udp'
  detected_as: string | null
  health_url: string | null
  systemd_unit: string | null
  memory_bytes: number | null
  cpu_usage: number | null
}

/** The answer of GET /system/discover. */
export interface Discovery {
  found: DiscoveredService[]
  total_listening_ports: number
  total_systemd_services: number
  systemd: 'available' | 'unavailable'
}

// Matched against the kernel's 15-character process name.
const NAME_RULES: readonly [RegExp, string][] = [
  [/^nginx/, 'nginx'],
  [/^(apache2|httpd)$/, 'apache'],
  [/^(postgres|postmaster)/, 'postgresql'],
  [/^(mysqld|mariadbd)$/, 'mysql'],
  [/^redis-/, 'redis'],
  [/^sshd/, 'ssh'],
  [/^(dockerd|docker-proxy)$/, 'docker'],
  [/^cloudflared$/, 'cloudflare-tunnel'],
  [/^tailscaled$/, 'tailscale'],
  [/^(node|nodejs|bun|deno)$/, 'node'],
  [/^(python[\d.]*|gunicorn|uvicorn)/, 'python'],
]
// Used only when the owning process says nothing (unknown pid or an unrecognised name).
const PORT_RULES: Record<string, string> = {
  'tcp/22': 'ssh', 'tcp/5432': 'postgresql', 'tcp/3306': 'mysql', 'tcp/6379': 'redis', 'tcp/2375': 'docker',
  'tcp/2376': 'docker', 'udp/41641': 'tailscale', 'tcp/18789': 'osmoda-gateway', 'tcp/18800': 'osmoda-mesh', 'tcp/19999': 'osmoda-egress',
}
const HTTP_KINDS = new Set(['nginx', 'apache', 'node', 'python'])
const HTTP_PORTS = new Set([80, 3000, 5000, 8000, 8008, 8080, 8081, 8888])
const TLS_PORTS = new Set([443, 8443])

/** `<name>` from a command line such as `node …/osmoda/bin/run.js daemon agentd`, else null. */
export function osmodaDaemonFromCommand(command: string): string | null {
  const match = /\bosmoda\b.*\sdaemon\s+([a-z][a-z0-9-]*)/.exec(command)
  return match ? (match[1] as string) : null
}

/** What a listening process is, from its name, command line and port (null when unknown). */
export function detectService(input: {name: string | null; command: string | null; proto: 'tcp' | 'udp'; port: number}): string | null {
  const daemon = input.command === null ? null : osmodaDaemonFromCommand(input.command)
  if (daemon) return `osmoda-${daemon}`
  const byName = input.name === null ? undefined : NAME_RULES.find(([pattern]) => pattern.test(input.name as string))?.[1]
  return byName ?? PORT_RULES[`${input.proto}/${input.port}`] ?? null
}

/** A URL an agent can GET to check an HTTP-ish service, or null for other protocols. */
export function healthUrl(detectedAs: string | null, proto: 'tcp' | 'udp', port: number, addresses: readonly string[]): string | null {
  if (proto !== 'tcp' || TLS_PORTS.has(port)) return null
  const path = detectedAs === 'osmoda-gateway' ? '/health' : '/'
  if (detectedAs !== 'osmoda-gateway' && !HTTP_KINDS.has(detectedAs ?? '') && !HTTP_PORTS.has(port)) return null
  const wildcard = ['0.0.0.0', '::', '127.0.0.1', '::ffff:127.0.0.1']
  const host = addresses.some((a) => wildcard.includes(a)) ? '127.0.0.1' : (addresses[0] ?? '127.0.0.1')
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`
}

/** The systemd unit from /proc/<pid>/cgroup text (innermost `.service` or `.scope`), or null. */
export function unitFromCgroup(text: string): string | null {
  const lines = text.split('\n')
  // cgroup v2 line first; on hybrid v1 hosts systemd keeps its tree under name=systemd.
  const line = lines.find((l) => l.startsWith('0::')) ?? lines.find((l) => l.includes(':name=systemd:'))
  const path = line?.slice(line.indexOf(':', line.indexOf(':') + 1) + 1) ?? ''
  const unit = path.split('/').reverse().find((segment) => segment.endsWith('.service') || segment.endsWith('.scope'))
  return unit ?? null
}

/** True only when systemd is PID 1: /proc/1/comm is `systemd` and /run/systemd/system exists. */
export async function systemdAvailable(procRoot = '/proc', systemdRunDir = '/run/systemd/system'): Promise<boolean> {
  const comm = await readProcText(`${procRoot}/1/comm`)
  if (comm?.trim() !== 'systemd') return false
  return access(systemdRunDir).then(
    () => true,
    () => false,
  )
}

/** How many service units systemctl lists (0 when systemctl fails). */
export async function countSystemdServices(signal?: AbortSignal): Promise<number> {
  const result = await runProcess(['systemctl', 'list-units', '--type=service', '--no-legend', '--plain', '--no-pager'], {timeoutMs: SYSTEMCTL_TIMEOUT_MS, signal}).catch(() => null)
  if (!result || result.exitCode !== 0) return 0
  return result.stdout.split('\n').filter((line) => line.trim() !== '').length
}

/** Inode → daemon name of osmoda's listening Unix sockets `<runDir>/<name>.sock` (from /proc/net/unix). */
export function parseOsmodaUnixSockets(text: string, runDir: string): Map<number, string> {
  const sockets = new Map<number, string>()
  const prefix = `${runDir.replace(/\/+$/, '')}/`
  for (const line of text.split('\n').slice(1)) {
    // Num RefCount Protocol Flags Type St Inode Path; flag 0x10000 (__SO_ACCEPTCON) marks a listener.
    const match = /^\S+\s+\S+\s+\S+\s+([0-9A-Fa-f]+)\s+\S+\s+\S+\s+(\d+)\s+(.+)$/.exec(line.trim())
    if (!match || (parseInt(match[1] as string, 16) & 0x10000) === 0) continue
    const path = match[3] as string
    const name = path.startsWith(prefix) ? /^([a-z][a-z0-9-]*)\.sock$/.exec(path.slice(prefix.length))?.[1] : undefined
    if (name) sockets.set(Number(match[2]), name)
  }
  return sockets
}

interface PortGroup {
  proto: 'tcp' | 'udp'
  port: number
  owner: SocketOwner | null
  addresses: string[]
}

/** Listening sockets grouped by (proto, port, owner): IPv4 and IPv6 binds of one service become one row. */
function groupPorts(sockets: readonly NetSocket[], owners: ReadonlyMap<number, SocketOwner>): PortGroup[] {
  const groups = new Map<string, PortGroup>()
  for (const socket of sockets) {
    const owner = owners.get(socket.inode) ?? null
    const key = `${socket.proto}/${socket.localPort}/${owner?.pid ?? '-'}`
    const group = groups.get(key) ?? {proto: socket.proto, port: socket.localPort, owner, addresses: []}
    group.addresses.push(socket.localAddress)
    groups.set(key, group)
  }
  return [...groups.values()].sort((a, b) => a.port - b.port || a.proto.localeCompare(b.proto))
}

interface PidFacts {
  info: ProcessInfo | null
  unit: string | null
}

/** One row of `found`: the group's owner, what it is, and its unit and resource use. */
function describeGroup(group: PortGroup, facts: PidFacts | undefined, daemonsByPid: ReadonlyMap<number, string>): DiscoveredService {
  const pid = group.owner?.pid ?? null
  let detectedAs = detectService({name: group.owner?.process ?? null, command: facts?.info?.command ?? null, proto: group.proto, port: group.port})
  const daemon = pid === null ? undefined : daemonsByPid.get(pid)
  if (daemon && !detectedAs?.startsWith('osmoda-')) {
    // An osmoda process that serves `<run>/<name>.sock`; in single-process mode it serves several,
    // so osmoda's own well-known TCP ports say which daemon a port belongs to.
    const byPort = PORT_RULES[`${group.proto}/${group.port}`]
    detectedAs = byPort?.startsWith('osmoda-') ? byPort : `osmoda-${daemon}`
  }
  return {
    name: group.owner?.process ?? detectedAs ?? `${group.proto}/${group.port}`,
    pid,
    port: group.port,
    protocol: group.proto,
    detected_as: detectedAs,
    health_url: healthUrl(detectedAs, group.proto, group.port, group.addresses),
    systemd_unit: facts?.unit ?? null,
    memory_bytes: facts?.info?.memory ?? null,
    cpu_usage: facts?.info?.cpu_usage ?? null,
  }
}

/**
 * What listens on this host and what it probably is. Ports come from /proc/net, owners from
 * /proc/<pid>/fd, units from /proc/<pid>/cgroup; osmoda daemons are also recognised by their
 * sockets in `runDir`. Without systemd as PID 1, units are null and the service total is 0.
 */
export async function discoverServices(options: {runDir?: string; procRoot?: string; signal?: AbortSignal} = {}): Promise<Discovery> {
  const procRoot = options.procRoot ?? '/proc'
  const [sockets, unixText, systemd, ctx] = await Promise.all([
    readSockets(procRoot),
    options.runDir === undefined ? Promise.resolve(null) : readProcText(`${procRoot}/net/unix`),
    systemdAvailable(procRoot),
    readProcessContext(procRoot),
  ])
  const listening = sockets.filter(isListening)
  const daemonSockets = options.runDir === undefined ? new Map<number, string>() : parseOsmodaUnixSockets(unixText ?? '', options.runDir)
  const owners = await mapSocketOwners([...listening.map((s) => s.inode), ...daemonSockets.keys()], procRoot)
  const daemonsByPid = new Map<number, string>()
  for (const [inode, name] of daemonSockets) {
    const pid = owners.get(inode)?.pid
    if (pid !== undefined && !daemonsByPid.has(pid)) daemonsByPid.set(pid, name)
  }
  const groups = groupPorts(listening, owners)
  const pids = [...new Set(groups.map((g) => g.owner?.pid).filter((pid): pid is number => pid !== undefined))]
  const infos = new Map<number, PidFacts>()
  await mapConcurrent(pids, PROC_CONCURRENCY, async (pid) => {
    const [info, cgroup] = await Promise.all([readProcessInfo(pid, ctx), systemd ? readProcText(`${procRoot}/${pid}/cgroup`) : null])
    infos.set(pid, {info, unit: cgroup === null ? null : unitFromCgroup(cgroup)})
  })
  const found = groups.map((group) => describeGroup(group, group.owner ? infos.get(group.owner.pid) : undefined, daemonsByPid))
  return {
    found,
    total_listening_ports: new Set(groups.map((g) => `${g.proto}/${g.port}`)).size,
    total_systemd_services: systemd ? await countSystemdServices(options.signal) : 0,
    systemd: systemd ? 'available' : 'unavailable',
  }
}
