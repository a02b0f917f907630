// Test wiring for the egress CONNECT proxy in one process: an echo upstream, fake DNS answers, a
// capability key pair, a real ledger and a proxy listening on TCP and a Unix socket. Read the state
// through the exported bindings; change it with the setters or through `settings` and `revoked`.
import {generateKeyPairSync} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import {createServer, connect, type Server, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, afterEach, beforeAll, beforeEach} from 'vitest'
import {signCapability} from '../../src/lib/capability.js'
import {openLedger, type Ledger} from '../../src/lib/ledger/ledger.js'
import {silentLogger} from '../../src/lib/log.js'
import {policyFrom} from '../../src/daemons/egress/decision.js'
import {createEgressEvents} from '../../src/daemons/egress/events.js'
import {createEgressProxy, type EgressProxy, type ProxySettings} from '../../src/daemons/egress/proxy.js'

export const node = generateKeyPairSync('ed25519')
export const other = generateKeyPairSync('ed25519')
const NAMES: Record<string, string[]> = {
  'allowed.test': ['127.0.0.1'],
  'tls.test': ['127.0.0.1'],
  'other.test': ['127.0.0.1'],
  'private.test': ['10.0.0.5'],
  'mixed.test': ['127.0.0.1', '192.168.1.1'],
  'mapped.test': ['::ffff:127.0.0.1'],
  'xn--bcher-kva.test': ['127.0.0.1'],
  'x.wild.test': ['127.0.0.1'],
}

export let dir: string
export let ledger: Ledger
export let proxy: EgressProxy
export let tcpPort: number
export let unixPath: string
export let echo: Server
export let echoPort: number
export let fresh: boolean
export let revoked: Set<string>
export let settings: ProxySettings
export let clock: number

/** An upstream that echoes what it gets, prefixed, and half-closes when the client does. */
function startEcho(): Promise<Server> {
  const server = createServer({allowHalfOpen: true}, (socket) => {
    socket.on('data', (d: Buffer) => socket.write(Buffer.concat([Buffer.from('echo:'), d])))
    socket.on('end', () => socket.end('bye'))
    socket.on('error', () => {})
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

export function baseSettings(): ProxySettings {
  return {
    policy: policyFrom({default_allow: ['allowed.test', '*.wild.test', 'xn--bcher-kva.test'], allowed_ports: [echoPort], allow_private_cidrs: ['127.0.0.0/8']}),
    maxTunnels: 8,
    connectTimeoutMs: 2000,
    dnsTimeoutMs: 300,
    requireSniMatch: false,
    idleTimeoutMs: 5000,
    maxLifetimeMs: 60_000,
  }
}

export const token = (perms: string[], over: {exp?: number; key?: typeof node.privateKey; jti?: string; aud?: ('egress' | 'sandbox')[]} = {}) =>
  signCapability(
    {jti: over.jti ?? 'cap_01JDQZ9V7C4Y3M2N1P0Q9R8S7T', sub: 'sandbox:test', iat: Math.floor(clock / 1000) - 10, exp: over.exp ?? Math.floor(clock / 1000) + 600, perms, aud: over.aud ?? ['egress', 'sandbox']},
    over.key ?? node.privateKey,
  )

export interface Answer {
  status: number
  reason: string | null
  socket: Socket
  head: string
}

/** Sends `request` raw and reads the response head. */
export function send(request: string | Buffer, via: 'tcp' | 'unix' = 'tcp'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = via === 'tcp' ? connect(tcpPort, '127.0.0.1') : connect(unixPath)
    let buf = Buffer.alloc(0)
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      const end = buf.indexOf('\r\n\r\n')
      if (end < 0) return
      socket.off('data', onData)
      const head = buf.subarray(0, end).toString('latin1')
      const rest = buf.subarray(end + 4)
      if (rest.length) socket.unshift(rest)
      resolve({status: Number(head.split(' ')[1]), reason: /x-osmoda-deny-reason: (\S+)/i.exec(head)?.[1] ?? null, socket, head})
    }
    socket.on('data', onData)
    socket.once('error', reject)
    socket.once('close', () => resolve({status: 0, reason: null, socket, head: buf.toString('latin1')}))
    socket.write(request)
  })
}

export const connectReq = (target: string, headers: Record<string, string> = {}) =>
  `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`

export const readUntilClosed = (socket: Socket): Promise<string> =>
  new Promise((resolve) => {
    let text = ''
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')))
    socket.once('close', () => resolve(text))
  })

export const deniedEvents = () => ledger.query({type: 'egress.denied', limit: 100, order: 'asc'}).map((e) => e.payload)
export const allowedEvents = () => ledger.query({type: 'egress.allowed', limit: 100, order: 'asc'}).map((e) => e.payload)

/** Whether the revocation list counts as fresh. */
export const setFresh = (value: boolean) => {
  fresh = value
}
/** Sets the proxy's clock (ms since the epoch). */
export const setClock = (ms: number) => {
  clock = ms
}

/** Registers the hooks: one echo upstream for the file, a fresh proxy (TCP and Unix listeners) and ledger per test. */
export function useEgressProxy(): void {
  beforeAll(async () => {
    echo = await startEcho()
    echoPort = (echo.address() as {port: number}).port
  })
  afterAll(() => echo.close())

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'osmoda-egress-'))
    ledger = openLedger(join(dir, 'ledger.db'))
    fresh = true
    revoked = new Set()
    clock = Date.parse('2026-11-26T12:00:00.000Z')
    settings = baseSettings()
    proxy = createEgressProxy({
      settings: () => settings,
      verifyKey: node.publicKey,
      revocations: {fresh: () => fresh, isRevoked: (jti) => revoked.has(jti)},
      events: createEgressEvents({ledger, now: () => clock}),
      log: silentLogger,
      now: () => clock,
      resolve: async (host) => {
        if (host === 'slow.test') return new Promise(() => {})
        const found = NAMES[host]
        if (!found) throw new Error('ENOTFOUND')
        return found
      },
      headerTimeoutMs: 400,
    })
    tcpPort = await proxy.listenTcp('127.0.0.1', 0)
    unixPath = join(dir, 'egress-proxy.sock')
    await proxy.listenUnix(unixPath)
  })

  afterEach(async () => {
    await proxy.close()
    ledger.close()
    rmSync(dir, {recursive: true, force: true})
  })
}
