import {readFile, readdir} from 'node:fs/promises'
import {networkInterfaces} from 'node:os'
import {runProcess} from '../../../lib/exec/run.js'
import {which} from '../../../lib/exec/which.js'
import {listConnections, listListeningPorts, type Connection, type ListeningPort} from '../system/sockets.js'
import {parseIpAddrJson, parseIpRouteJson, parseProcIpv6Route, parseProcRoute, parseResolvConf, type DnsConfig, type Route} from './network-parse.js'

/** Sections of GET /network/info (the `network_info` tool's `detail`). */
export const NETWORK_DETAILS = ['interfaces', 'ports', 'connections', 'routes', 'dns', 'all'] as const

/** One network interface. */
export interface NetInterface {
  name: string
  state: string
  mac: string | null
  mtu: number | null
  addresses: string[]
}

/** The answer of GET /network/info: only the requested sections are present. */
export interface NetworkInfo {
  interfaces?: NetInterface[]
  ports?: ListeningPort[]
  connections?: Connection[]
  routes?: Route[]
  dns?: DnsConfig
}

/** Where the readers look; tests point them at fixtures. */
export interface NetworkSources {
  sysNet: string
  procRoot: string
  resolvConf: string
  /** The `ip` binary, or null to read /proc only. */
  ip: string | null
}

const IP_TIMEOUT_MS = 5000
const CONNECTIONS_LIMIT = 200

async function readText(path: string): Promise<string | null> {
  return readFile(path, 'utf8').catch(() => null)
}

async function ipJson(ip: string, args: string[]): Promise<string | null> {
  const result = await runProcess([ip, '-j', ...args], {timeoutMs: IP_TIMEOUT_MS, maxOutputBytes: 4 * 1024 * 1024}).catch(() => null)
  return result && result.exitCode === 0 && !result.stdoutTruncated ? result.stdout : null
}

/** Addresses per interface from Node (getifaddrs): the fallback when `ip` is missing. */
function addressesFromNode(): Map<string, string[]> {
  const byName = new Map<string, string[]>()
  for (const [name, infos] of Object.entries(networkInterfaces())) byName.set(name, (infos ?? []).map((i) => i.cidr ?? i.address))
  return byName
}

/** Interfaces from /sys/class/net, with addresses from `ip -j addr` when present. */
export async function readInterfaces(sources: NetworkSources): Promise<NetInterface[]> {
  const names = (await readdir(sources.sysNet).catch(() => [] as string[])).sort()
  const ipText = sources.ip ? await ipJson(sources.ip, ['addr', 'show']) : null
  let addresses: Map<string, string[]>
  try {
    addresses = ipText ? parseIpAddrJson(ipText) : addressesFromNode()
  } catch {
    addresses = addressesFromNode()
  }
  return Promise.all(
    names.map(async (name) => {
      const [state, mac, mtu] = await Promise.all(['operstate', 'address', 'mtu'].map((file) => readText(`${sources.sysNet}/${name}/${file}`)))
      const mtuNumber = Number(mtu?.trim())
      return {
        name,
        state: state?.trim() || 'unknown',
        mac: mac?.trim() || null,
        mtu: Number.isInteger(mtuNumber) && mtuNumber > 0 ? mtuNumber : null,
        addresses: addresses.get(name) ?? [],
      }
    }),
  )
}

/** Main-table routes of both families: `ip -j route` when present, else /proc/net/route and ipv6_route. */
export async function readRoutes(sources: NetworkSources): Promise<Route[]> {
  if (sources.ip) {
    const [v4, v6] = await Promise.all([ipJson(sources.ip, ['-4', 'route', 'show', 'table', 'main']), ipJson(sources.ip, ['-6', 'route', 'show', 'table', 'main'])])
    try {
      if (v4 !== null && v6 !== null) return [...parseIpRouteJson(v4), ...parseIpRouteJson(v6)]
    } catch {
      // Unparseable output: fall through to /proc.
    }
  }
  const [v4, v6] = await Promise.all([readText(`${sources.procRoot}/net/route`), readText(`${sources.procRoot}/net/ipv6_route`)])
  return [...parseProcRoute(v4 ?? ''), ...parseProcIpv6Route(v6 ?? '')]
}

/** The resolver configuration; empty lists when resolv.conf is missing. */
export async function readDns(sources: NetworkSources): Promise<DnsConfig> {
  return parseResolvConf((await readText(sources.resolvConf)) ?? '')
}

/** The default sources of this host. */
export async function hostNetworkSources(): Promise<NetworkSources> {
  return {sysNet: '/sys/class/net', procRoot: '/proc', resolvConf: '/etc/resolv.conf', ip: await which('ip')}
}

/** The requested sections of the host's network state (GET /network/info). */
export async function readNetworkInfo(detail: (typeof NETWORK_DETAILS)[number], sources: NetworkSources): Promise<NetworkInfo> {
  const want = (section: Exclude<typeof detail, 'all'>) => detail === 'all' || detail === section
  const [interfaces, ports, connections, routes, dns] = await Promise.all([
    want('interfaces') ? readInterfaces(sources) : undefined,
    want('ports') ? listListeningPorts(sources.procRoot) : undefined,
    want('connections') ? listConnections({limit: CONNECTIONS_LIMIT, procRoot: sources.procRoot}) : undefined,
    want('routes') ? readRoutes(sources) : undefined,
    want('dns') ? readDns(sources) : undefined,
  ])
  const info: NetworkInfo = {}
  if (interfaces) info.interfaces = interfaces
  if (ports) info.ports = ports
  if (connections) info.connections = connections
  if (routes) info.routes = routes
  if (dns) info.dns = dns
  return info
}
