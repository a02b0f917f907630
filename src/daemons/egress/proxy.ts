import type {KeyObject} from 'node:crypto'
import {mkdirSync, rmSync} from 'node:fs'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {connect as netConnect, type AddressInfo, type Socket} from 'node:net'
import {dirname} from 'node:path'
import {promises as dns} from 'node:dns'
import {OsmodaError} from '../../lib/errors.js'
import {createIdGenerator} from '../../lib/ids.js'
import type {Logger} from '../../lib/log.js'
import {isRefusedAddress} from './cidr.js'
import {authorize, normaliseHost, parseConnectTarget, refusedAddresses, type EgressPolicy, type Target} from './decision.js'
import type {EgressEvents, Listener} from './events.js'
import type {Revocations} from './revocations.js'
import {MAX_INSPECT_BYTES} from './first-bytes.js'
import {openTunnel, type TunnelInfo, type TunnelLimits} from './tunnel.js'
import {secureSocket} from '../../lib/rpc/socket-access.js'
import {answers} from './unix-socket.js'

/** Resolves a name to its A/AAAA addresses; injectable so tests can map names to local servers. */
export type Resolver = (host: string) => Promise<string[]>

/** Settings read per request, so a reload or PUT /egress/allowlist applies to the next CONNECT. */
export interface ProxySettings extends TunnelLimits {
  policy: EgressPolicy
  maxTunnels: number
  connectTimeoutMs: number
  dnsTimeoutMs: number
}

/** Dependencies of the proxy. */
export interface ProxyDeps {
  settings: () => ProxySettings
  verifyKey: KeyObject
  revocations: Revocations
  events: EgressEvents
  log: Logger
  resolve?: Resolver
  now?: () => number
  /** Longest wait for a complete request head (default 10 s). */
  headerTimeoutMs?: number
  /** Largest request head (default 8 KiB; more → 431). */
  maxHeaderBytes?: number
  /** Group given to the Unix socket, mode 0660 (default osmoda-sandbox; 0600 when it does not exist). */
  socketGroup?: string
}


const STATUS_TEXT: Record<number, string> = {400: 'Bad Request', 403: 'Forbidden', 405: 'Method Not Allowed', 408: 'Request Timeout', 431: 'Request Header Fields Too Large', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout'}

/** The default resolver: A and AAAA records through the system's DNS servers (no /etc/hosts). */
export const dnsResolver: Resolver = async (host) => {
  const resolver = new dns.Resolver({tries: 1})
  const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)])
  const addresses = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])]
  if (addresses.length === 0 && v4.status === 'rejected') throw v4.reason
  return addresses
}


class Deny extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly tokenId: string | null = null,
    readonly ledgered = true,
  ) {
    super(reason)
  }
}

/**
 * egress's CONNECT proxy (SPEC §2.9): one HTTP parser per listener (TCP and the sandboxes' Unix
 * socket) that takes only `CONNECT host:port`, decides steps 1–6, answers 200 once the upstream
 * socket is open and hands both sockets to a tunnel that checks the client's first bytes.
 */
export function createEgressProxy(deps: ProxyDeps) {
  const now = deps.now ?? Date.now
  const resolve = deps.resolve ?? dnsResolver
  const newId = createIdGenerator({clock: now})
  const tunnels = new Map<string, TunnelInfo & {close(): void}>()
  const servers: Server[] = []
  // Sockets whose CONNECT is still being decided (DNS, connect): closed with the proxy.
  const handshakes = new Set<Socket>()
  const unixPaths: string[] = []
  const counters = {allowed: 0, denied: 0}

  const refuse = (socket: Socket, status: number, reason: string) => {
    if (!socket.writable) return void socket.destroy()
    socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nX-Osmoda-Deny-Reason: ${reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`)
    socket.destroySoon?.()
    setTimeout(() => socket.destroy(), 1000).unref()
  }

  const denied = (event: {host: string; port: number; reason: string; token_id: string | null; listener: Listener}, ledgered = true) => {
    counters.denied += 1
    try {
      if (ledgered) deps.events.denied(event)
    } catch (error) {
      deps.log.error('cannot ledger egress.denied', {error: (error as Error).message, reason: event.reason})
    }
  }

  const withTimeout = <T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> =>
    new Promise<T>((ok, fail) => {
      const timer = setTimeout(() => fail(onTimeout()), ms)
      promise.then(
        (v) => (clearTimeout(timer), ok(v)),
        (e: unknown) => (clearTimeout(timer), fail(e)),
      )
    })

  const connectFirst = async (addresses: string[], port: number, timeoutMs: number, gone: AbortSignal): Promise<Socket> => {
    const deadline = now() + timeoutMs
    let lastError: Error | null = null
    for (const address of addresses) {
      const left = deadline - now()
      if (left <= 0) break
      try {
        return await new Promise<Socket>((ok, fail) => {
          const upstream = netConnect({host: address, port, allowHalfOpen: true})
          const timer = setTimeout(() => (upstream.destroy(), fail(new Deny(504, 'connect_timeout', null, false))), left)
          const abort = () => (upstream.destroy(), fail(new Deny(400, 'client_gone', null, false)))
          gone.addEventListener('abort', abort, {once: true})
          upstream.once('connect', () => (clearTimeout(timer), gone.removeEventListener('abort', abort), ok(upstream)))
          upstream.once('error', (error) => (clearTimeout(timer), gone.removeEventListener('abort', abort), fail(error)))
        })
      } catch (error) {
        if (error instanceof Deny && error.reason === 'client_gone') throw error
        lastError = error as Error
      }
    }
    if (lastError instanceof Deny) throw lastError
    throw new Deny(now() >= deadline ? 504 : 502, now() >= deadline ? 'connect_timeout' : 'connect_failed', null, false)
  }

  const handleConnect = async (req: IncomingMessage, socket: Socket, head: Buffer, listener: Listener) => {
    handshakes.add(socket)
    socket.once('close', () => handshakes.delete(socket))
    const early: Buffer[] = head.length ? [head] : []
    let earlyBytes = head.length
    // A client that talks before the 200 is held to one inspection's worth of bytes.
    const onEarly = (chunk: Buffer) => {
      early.push(chunk)
      earlyBytes += chunk.length
      if (earlyBytes >= MAX_INSPECT_BYTES) socket.pause()
    }
    socket.on('data', onEarly)
    socket.on('error', () => {})
    const gone = new AbortController()
    socket.once('close', () => gone.abort())
    const settings = deps.settings()
    const parsed = parseConnectTarget(req.url ?? '')
    let target: Target | null = null
    let tokenId: string | null = null
    try {
      if (!parsed) throw new Deny(400, 'bad_target', null, false)
      const normal = normaliseHost(parsed.host)
      if (!normal) throw new Deny(403, 'bad_host')
      target = {host: normal.host, port: parsed.port, literal: normal.literal}
      if (tunnels.size >= settings.maxTunnels) throw new Deny(503, 'too_many_tunnels')
      const auth = authorize(target, {authorization: req.headers['proxy-authorization'], listener}, {policy: settings.policy, verifyKey: deps.verifyKey, revocations: deps.revocations, now: now()})
      if (!auth.ok) throw new Deny(auth.status, auth.reason, auth.tokenId)
      tokenId = auth.tokenId
      const host = target.host
      const addresses = target.literal
        ? [host]
        : await withTimeout(resolve(host), settings.dnsTimeoutMs, () => new Deny(504, 'dns_timeout', tokenId, false)).catch((error: unknown) => {
            throw error instanceof Deny ? error : new Deny(502, 'dns_failed', tokenId, false)
          })
      if (addresses.length === 0) throw new Deny(502, 'dns_failed', tokenId, false)
      if (refusedAddresses(addresses, settings.policy, isRefusedAddress).length) throw new Deny(403, 'address_denied', tokenId)
      if (gone.signal.aborted) return
      const upstream = await connectFirst(addresses, target.port, settings.connectTimeoutMs, gone.signal)
      if (tunnels.size >= settings.maxTunnels) {
        upstream.destroy()
        throw new Deny(503, 'too_many_tunnels', tokenId)
      }
      socket.off('data', onEarly)
      handshakes.delete(socket)
      if (socket.destroyed) return void upstream.destroy()
      startTunnel({socket, upstream, early: Buffer.concat(early), target, tokenId, listener, addresses, settings})
    } catch (error) {
      socket.off('data', onEarly)
      const deny = error instanceof Deny ? error : new Deny(502, 'connect_failed', tokenId, false)
      if (deny.reason === 'client_gone') return void socket.destroy()
      if (!(error instanceof Deny)) deps.log.warn('connect failed', {host: target?.host, error: (error as Error).message})
      denied({host: target?.host ?? parsed?.host.toLowerCase() ?? '', port: parsed?.port ?? 0, reason: deny.reason, token_id: deny.tokenId, listener}, deny.ledgered)
      refuse(socket, deny.status, deny.reason)
    }
  }

  const startTunnel = (args: {socket: Socket; upstream: Socket; early: Buffer; target: Target; tokenId: string | null; listener: Listener; addresses: string[]; settings: ProxySettings}) => {
    const {socket, upstream, target, tokenId, listener} = args
    const id = newId('tun')
    const info: TunnelInfo = {id, host: target.host, port: target.port, token_id: tokenId, listener, opened_at: new Date(now()).toISOString(), bytes_up: 0, bytes_down: 0}
    try {
      deps.events.allowed({host: target.host, port: target.port, addresses: args.addresses, token_id: tokenId, listener})
    } catch (error) {
      // No tunnel without its audit record.
      upstream.destroy()
      throw error
    }
    counters.allowed += 1
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
    const tunnel = openTunnel({
      client: socket,
      upstream,
      early: args.early,
      info,
      expectedSni: target.host,
      sniOptional: target.literal !== null,
      limits: args.settings,
      onRefused: (reason) => denied({host: target.host, port: target.port, reason, token_id: tokenId, listener}),
      onClosed: () => tunnels.delete(id),
    })
    tunnels.set(id, Object.assign(info, {close: tunnel.close}))
  }

  const makeServer = (listener: Listener): Server => {
    const headerTimeout = deps.headerTimeoutMs ?? 10_000
    const server = createServer({
      maxHeaderSize: deps.maxHeaderBytes ?? 8192,
      headersTimeout: headerTimeout,
      requestTimeout: headerTimeout + 1000,
      connectionsCheckingInterval: Math.min(1000, headerTimeout),
      keepAliveTimeout: 1000,
    })
    server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      handleConnect(req, socket, head, listener).catch((error: unknown) => {
        deps.log.error('CONNECT handling failed', {error: (error as Error).message})
        socket.destroy()
      })
    })
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      // Only CONNECT tunnels: plain and absolute-URI proxying are refused (step 1).
      counters.denied += 1
      res.writeHead(405, {'x-osmoda-deny-reason': 'method_not_allowed', allow: 'CONNECT', connection: 'close', 'content-length': 0})
      res.end()
      req.resume()
    })
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
      counters.denied += 1
      const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
      refuse(socket, status, status === 431 ? 'headers_too_large' : status === 408 ? 'header_timeout' : 'bad_request')
    })
    servers.push(server)
    return server
  }

  return {
    /** Listens on TCP; resolves with the bound port. */
    async listenTcp(address: string, port: number): Promise<number> {
      const server = makeServer('tcp')
      await new Promise<void>((ok, fail) => {
        server.once('error', fail)
        server.listen(port, address, () => (server.off('error', fail), ok()))
      })
      return (server.address() as AddressInfo).port
    },
    /** Listens on the sandboxes' Unix socket (token required), mode 0660 with group osmoda-sandbox (0600 without it). */
    async listenUnix(path: string): Promise<void> {
      mkdirSync(dirname(path), {recursive: true})
      if (await answers(path)) throw new OsmodaError('ALREADY_EXISTS', `another process is already serving ${path}`, {hint: 'stop the running egress first'})
      rmSync(path, {force: true})
      const server = makeServer('unix')
      await new Promise<void>((ok, fail) => {
        server.once('error', fail)
        server.listen(path, () => (server.off('error', fail), ok()))
      })
      // Sandboxes reach it through their group (SPEC §1.1); dev machines have no such group: 0600.
      secureSocket(path, deps.socketGroup ?? 'osmoda-sandbox', deps.log)
      unixPaths.push(path)
    },
    tunnels: (): TunnelInfo[] => [...tunnels.values()].map(({close: _close, ...info}) => ({...info})),
    stats: () => ({tunnels_active: tunnels.size, allowed_total: counters.allowed, denied_total: counters.denied}),
    /** Stops listening and closes every tunnel. */
    async close(): Promise<void> {
      for (const tunnel of [...tunnels.values()]) tunnel.close()
      for (const socket of handshakes) socket.destroy()
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((ok) => {
              server.close(() => ok())
              server.closeAllConnections()
            }),
        ),
      )
      for (const path of unixPaths) rmSync(path, {force: true})
    },
  }
}

/** The proxy. */
export type EgressProxy = ReturnType<typeof createEgressProxy>
