import {decodeHexAddress, formatIpv6} from '../system/sockets.js'

/** One route (GET /network/info `routes`). */
export interface Route {
  dst: string
  gateway: string | null
  dev: string | null
  metric: number
}

/** Name servers and search domains from resolv.conf. */
export interface DnsConfig {
  servers: string[]
  search: string[]
}

/** An interface's addresses in CIDR notation, by interface name, from `ip -j addr`. */
export function parseIpAddrJson(text: string): Map<string, string[]> {
  const byName = new Map<string, string[]>()
  const links = JSON.parse(text) as unknown
  if (!Array.isArray(links)) return byName
  for (const link of links as {ifname?: unknown; addr_info?: unknown}[]) {
    if (typeof link?.ifname !== 'string') continue
    const infos = Array.isArray(link.addr_info) ? (link.addr_info as {local?: unknown; prefixlen?: unknown}[]) : []
    byName.set(
      link.ifname,
      infos.filter((a) => typeof a.local === 'string' && typeof a.prefixlen === 'number').map((a) => `${a.local as string}/${a.prefixlen as number}`),
    )
  }
  return byName
}

/** Routes from `ip -j route` (either family); a missing metric is 0, as the kernel reports it. */
export function parseIpRouteJson(text: string): Route[] {
  const rows = JSON.parse(text) as unknown
  if (!Array.isArray(rows)) return []
  return (rows as Record<string, unknown>[])
    .filter((r) => typeof r?.dst === 'string')
    .map((r) => ({
      dst: r.dst as string,
      gateway: typeof r.gateway === 'string' ? r.gateway : null,
      dev: typeof r.dev === 'string' ? r.dev : null,
      metric: typeof r.metric === 'number' ? r.metric : 0,
    }))
}

function bitCount(mask: number): number {
  let n = 0
  for (let m = mask >>> 0; m; m >>>= 1) n += m & 1
  return n
}

const RTF_UP = 0x0001

/** IPv4 routes from /proc/net/route (addresses in host byte order, like /proc/net/tcp). */
export function parseProcRoute(text: string, byteOrder?: 'LE' | 'BE'): Route[] {
  const routes: Route[] = []
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    // Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT
    if (f.length < 8) continue
    const [dev, dstHex, gwHex, flagsHex, , , metric, maskHex] = f as [string, string, string, string, string, string, string, string]
    if ((parseInt(flagsHex, 16) & RTF_UP) === 0) continue
    const prefix = bitCount(parseInt(maskHex, 16))
    const dst = decodeHexAddress(dstHex, byteOrder)
    const gateway = decodeHexAddress(gwHex, byteOrder)
    routes.push({dst: prefix === 0 && dst === '0.0.0.0' ? 'default' : `${dst}/${prefix}`, gateway: gateway === '0.0.0.0' ? null : gateway, dev, metric: Number(metric) || 0})
  }
  return routes
}

const RTF_REJECT = 0x0200
const RTF_CACHE = 0x01000000
const RTF_LOCAL = 0x80000000

function ipv6FromHex(hex: string): string {
  return formatIpv6(Array.from({length: 16}, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16)))
}

/**
 * IPv6 routes of the main table from /proc/net/ipv6_route, which lists every table: local-address,
 * cached, reject and multicast routes (what `ip -6 route` leaves out by default) are skipped.
 */
export function parseProcIpv6Route(text: string): Route[] {
  const routes: Route[] = []
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/)
    // dst dst_len src src_len next_hop metric refcnt use flags dev
    if (f.length < 10) continue
    const [dstHex, lenHex, , , hopHex, metricHex, , , flagsHex, dev] = f as string[] as [string, string, string, string, string, string, string, string, string, string]
    const flags = parseInt(flagsHex, 16)
    if ((flags & RTF_UP) === 0 || flags & (RTF_REJECT | RTF_CACHE | RTF_LOCAL) || dstHex.startsWith('ff')) continue
    const prefix = parseInt(lenHex, 16)
    const dst = ipv6FromHex(dstHex)
    const hop = ipv6FromHex(hopHex)
    routes.push({dst: prefix === 0 && dst === '::' ? 'default' : `${dst}/${prefix}`, gateway: hop === '::' ? null : hop, dev, metric: parseInt(metricHex, 16)})
  }
  return routes
}

/** `nameserver`, `search` and `domain` lines of resolv.conf; comments (`#`, `;`) ignored. */
export function parseResolvConf(text: string): DnsConfig {
  const servers: string[] = []
  let search: string[] = []
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim()
    const [key, ...values] = line.split(/\s+/)
    if (key === 'nameserver' && values[0]) servers.push(values[0])
    // The last search or domain line wins, as in the resolver.
    else if ((key === 'search' || key === 'domain') && values.length) search = values
  }
  return {servers, search}
}
