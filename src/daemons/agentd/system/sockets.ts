import {endianness} from 'node:os'
import {parseProcStat} from './processes.js'
import {listPids, mapConcurrent, PROC_CONCURRENCY, readProcDir, readProcLink, readProcText} from './proc-fs.js'

/** Transport of a socket. */
export type NetProto = 'tcp' | 'udp'

/** One row of /proc/net/{tcp,tcp6,udp,udp6}, decoded. */
export interface NetSocket {
  proto: NetProto
  family: 4 | 6
  localAddress: string
  localPort: number
  remoteAddress: string
  remotePort: number
  state: string
  inode: number
}

/** A listening TCP port or bound UDP port (POST /system/query `ports`). */
export interface ListeningPort {
  proto: NetProto
  address: string
  port: number
  pid: number | null
  process: string | null
}

/** A connection (POST /system/query `connections`); local and remote are `addr:port`, `[v6]:port`. */
export interface Connection {
  proto: NetProto
  local: string
  remote: string
  state: string
  pid: number | null
  process: string | null
}

/** The process that owns a socket. */
export interface SocketOwner {
  pid: number
  process: string
}

// include/net/tcp_states.h. UDP reuses the numbers: 01 connected, 07 bound but unconnected.
const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED', '02': 'SYN_SENT', '03': 'SYN_RECV', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2', '06': 'TIME_WAIT',
  '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN', '0B': 'CLOSING', '0C': 'NEW_SYN_RECV',
}
const UDP_STATES: Record<string, string> = {'01': 'ESTABLISHED', '07': 'UNCONN'}

const TABLES: readonly {file: string; proto: NetProto}[] = [
  {file: 'tcp', proto: 'tcp'},
  {file: 'tcp6', proto: 'tcp'},
  {file: 'udp', proto: 'udp'},
  {file: 'udp6', proto: 'udp'},
]

/**
 * Decodes an address from /proc/net: 8 hex digits (IPv4) or 32 (IPv6). The kernel prints each 32-bit
 * word of the network-order address as a host-order integer, so on little-endian hosts every word's
 * bytes come out reversed.
 */
export function decodeHexAddress(hex: string, byteOrder: 'LE' | 'BE' = endianness()): string {
  const bytes: number[] = []
  for (let word = 0; word < hex.length; word += 8) {
    const wordBytes = [0, 2, 4, 6].map((i) => parseInt(hex.slice(word + i, word + i + 2), 16))
    bytes.push(...(byteOrder === 'LE' ? wordBytes.reverse() : wordBytes))
  }
  return bytes.length === 4 ? bytes.join('.') : formatIpv6(bytes)
}

/** RFC 5952 text for 16 bytes: lowercase, longest zero run as `::`, IPv4-mapped as `::ffff:a.b.c.d`. */
export function formatIpv6(bytes: readonly number[]): string {
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `::ffff:${bytes.slice(12).join('.')}`
  const groups = Array.from({length: 8}, (_, i) => ((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0))
  let bestStart = -1
  let bestLength = 1
  for (let i = 0; i < 8; ) {
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i]
    i = j === i ? i + 1 : j
  }
  const hex = groups.map((g) => g.toString(16))
  if (bestStart < 0) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`
}

/** Parses one /proc/net table (`tcp`, `tcp6`, `udp`, `udp6`). */
export function parseProcNet(text: string, proto: NetProto, byteOrder: 'LE' | 'BE' = endianness()): NetSocket[] {
  const sockets: NetSocket[] = []
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/)
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode …
    const [local, remote, st, inode] = [fields[1], fields[2], fields[3], fields[9]]
    if (!local || !remote || !st || inode === undefined) continue
    const [localHex = '', localPort = '0'] = local.split(':')
    const [remoteHex = '', remotePort = '0'] = remote.split(':')
    sockets.push({
      proto,
      family: localHex.length === 8 ? 4 : 6,
      localAddress: decodeHexAddress(localHex, byteOrder),
      localPort: parseInt(localPort, 16),
      remoteAddress: decodeHexAddress(remoteHex, byteOrder),
      remotePort: parseInt(remotePort, 16),
      state: (proto === 'tcp' ? TCP_STATES : UDP_STATES)[st.toUpperCase()] ?? st,
      inode: Number(inode),
    })
  }
  return sockets
}

/** Every TCP and UDP socket of this network namespace. */
export async function readSockets(procRoot = '/proc'): Promise<NetSocket[]> {
  const tables = await Promise.all(TABLES.map(async ({file, proto}) => parseProcNet((await readProcText(`${procRoot}/net/${file}`)) ?? '', proto)))
  return tables.flat()
}

/** True for a listening TCP socket or a bound, unconnected UDP socket. */
export function isListening(socket: NetSocket): boolean {
  return socket.proto === 'tcp' ? socket.state === 'LISTEN' : socket.state === 'UNCONN' && socket.localPort !== 0
}

/** Which pids hold each wanted socket inode, from the `socket:[inode]` links in /proc/<pid>/fd. */
async function socketHolders(wanted: ReadonlySet<number>, procRoot: string): Promise<Map<number, number[]>> {
  const holders = new Map<number, number[]>()
  if (wanted.size === 0) return holders
  await mapConcurrent(await listPids(procRoot), PROC_CONCURRENCY, async (pid) => {
    const fds = await readProcDir(`${procRoot}/${pid}/fd`)
    const links = await mapConcurrent(fds, 16, (fd) => readProcLink(`${procRoot}/${pid}/fd/${fd}`))
    for (const link of new Set(links)) {
      const inode = link?.startsWith('socket:[') ? Number(link.slice(8, -1)) : NaN
      if (!wanted.has(inode)) continue
      holders.set(inode, [...(holders.get(inode) ?? []), pid])
    }
  })
  return holders
}

/**
 * The owning process of each socket inode. A socket shared by a parent and its workers (nginx,
 * gunicorn) belongs to the topmost holder, i.e. the one whose parent does not hold it too.
 */
export async function mapSocketOwners(inodes: Iterable<number>, procRoot = '/proc'): Promise<Map<number, SocketOwner>> {
  const holders = await socketHolders(new Set([...inodes].filter((inode) => inode > 0)), procRoot)
  const pids = [...new Set([...holders.values()].flat())]
  const stats = new Map<number, {ppid: number; name: string}>()
  await mapConcurrent(pids, PROC_CONCURRENCY, async (pid) => {
    const stat = parseProcStat((await readProcText(`${procRoot}/${pid}/stat`)) ?? '')
    if (stat) stats.set(pid, {ppid: stat.ppid, name: stat.name})
  })
  const owners = new Map<number, SocketOwner>()
  for (const [inode, pidList] of holders) {
    const alive = pidList.filter((pid) => stats.has(pid)).sort((a, b) => a - b)
    const top = alive.find((pid) => !alive.includes(stats.get(pid)?.ppid ?? -1)) ?? alive[0]
    if (top !== undefined) owners.set(inode, {pid: top, process: stats.get(top)?.name ?? ''})
  }
  return owners
}

/** `addr:port`, with brackets around IPv6 addresses. */
export function formatEndpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`
}

/** Listening TCP and bound UDP ports with their owning process, sorted by port. */
export async function listListeningPorts(procRoot = '/proc'): Promise<ListeningPort[]> {
  const sockets = (await readSockets(procRoot)).filter(isListening)
  const owners = await mapSocketOwners(sockets.map((s) => s.inode), procRoot)
  const seen = new Set<string>()
  const ports: ListeningPort[] = []
  for (const socket of sockets) {
    const owner = owners.get(socket.inode)
    const row: ListeningPort = {proto: socket.proto, address: socket.localAddress, port: socket.localPort, pid: owner?.pid ?? null, process: owner?.process ?? null}
    // SO_REUSEPORT groups show one row per socket; the agent wants one per address and owner.
    const key = `${row.proto} ${row.address} ${row.port} ${row.pid}`
    if (seen.has(key)) continue
    seen.add(key)
    ports.push(row)
  }
  const v6 = (address: string) => Number(address.includes(':'))
  return ports.sort((a, b) => a.port - b.port || a.proto.localeCompare(b.proto) || v6(a.address) - v6(b.address) || a.address.localeCompare(b.address))
}

/** TCP connections (every state but LISTEN) and connected UDP sockets, established first. */
export async function listConnections(options: {limit: number; procRoot?: string}): Promise<Connection[]> {
  const procRoot = options.procRoot ?? '/proc'
  const sockets = (await readSockets(procRoot)).filter((s) => (s.proto === 'tcp' ? s.state !== 'LISTEN' : s.state === 'ESTABLISHED'))
  sockets.sort((a, b) => Number(b.state === 'ESTABLISHED') - Number(a.state === 'ESTABLISHED') || a.localPort - b.localPort)
  const chosen = sockets.slice(0, options.limit)
  const owners = await mapSocketOwners(chosen.map((s) => s.inode), procRoot)
  return chosen.map((s) => {
    const owner = owners.get(s.inode)
    return {
      proto: s.proto,
      local: formatEndpoint(s.localAddress, s.localPort),
      remote: formatEndpoint(s.remoteAddress, s.remotePort),
      state: s.state,
      pid: owner?.pid ?? null,
      process: owner?.process ?? null,
    }
  })
}
