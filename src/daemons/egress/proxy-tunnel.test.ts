// The egress CONNECT proxy: what the client sends inside a tunnel (nested CONNECT, SNI) and a real TLS client.
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {connect as tlsConnect, createServer as createTlsServer, type Server as TlsServer} from 'node:tls'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {requireTool} from '../../../test/helpers/system-tool.js'
import {policyFrom} from './decision.js'
import {buildClientHello} from './first-bytes.js'
import {connectReq, deniedEvents, echoPort, proxy, readUntilClosed, send, settings, token, useEgressProxy} from '../../../test/helpers/egress-proxy-kit.js'

useEgressProxy()

describe('egress CONNECT proxy: first bytes in the tunnel', () => {
  const openTo = async (host: string) => {
    const answer = await send(connectReq(`${host}:${echoPort}`, {'Proxy-Authorization': `Bearer ${token([`net:${host}:${echoPort}`])}`}), 'unix')
    expect(answer.status).toBe(200)
    return answer.socket
  }

  it('closes a tunnel that relays a nested CONNECT, before it reaches upstream', async () => {
    const socket = await openTo('other.test')
    const closed = readUntilClosed(socket)
    socket.write(connectReq('evil.example:443'))
    expect(await closed).toBe('')
    expect(deniedEvents()).toEqual([expect.objectContaining({host: 'other.test', reason: 'nested_connect', token_id: 'cap_01JDQZ9V7C4Y3M2N1P0Q9R8S7T', listener: 'unix'})])
  })

  it('judges bytes sent before the 200 (pipelined after the CONNECT head) like any first bytes', async () => {
    const t = token([`net:other.test:${echoPort}`])
    const answer = await send(connectReq(`other.test:${echoPort}`, {'Proxy-Authorization': `Bearer ${t}`}) + connectReq('evil.example:443'), 'unix')
    expect(answer.status).toBe(200)
    expect(await readUntilClosed(answer.socket)).toBe('')
    expect(deniedEvents().map((e) => e.reason)).toEqual(['nested_connect'])
  })

  it('with requireSniMatch: closes on a different or missing SNI, passes the matching one', async () => {
    settings.requireSniMatch = true
    const wrong = await openTo('other.test')
    const wrongClosed = readUntilClosed(wrong)
    wrong.write(buildClientHello('evil.example'))
    expect(await wrongClosed).toBe('')
    const missing = await openTo('other.test')
    const missingClosed = readUntilClosed(missing)
    missing.write(buildClientHello(null))
    expect(await missingClosed).toBe('')
    const plain = await openTo('other.test')
    const plainClosed = readUntilClosed(plain)
    plain.write('hello')
    expect(await plainClosed).toBe('')
    expect(deniedEvents().map((e) => [e.reason, e.count])).toEqual([['sni_mismatch', 1]])
    // A matching SNI, sent in two pieces, reaches the upstream intact
    const good = await openTo('other.test')
    const hello = buildClientHello('other.test')
    good.write(hello.subarray(0, 7))
    await new Promise((r) => setTimeout(r, 30))
    good.write(hello.subarray(7))
    const echoed = await new Promise<Buffer>((r) => good.once('data', r))
    expect(echoed.equals(Buffer.concat([Buffer.from('echo:'), hello])) || echoed.subarray(0, 5).toString() === 'echo:').toBe(true)
    good.destroy()
  })

  it('closes a busy tunnel at its maximum lifetime', async () => {
    settings.maxLifetimeMs = 300
    const socket = await openTo('other.test')
    const ticking = setInterval(() => socket.writable && socket.write('.'), 20)
    const started = Date.now()
    await readUntilClosed(socket)
    clearInterval(ticking)
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('bounds live tunnels by maxTunnels and frees the slot when one closes', async () => {
    // Given one live tunnel under a limit of one
    settings.maxTunnels = 1
    const first = await openTo('other.test')
    // Then a second CONNECT is refused with 503 too_many_tunnels
    const second = await send(connectReq(`allowed.test:${echoPort}`))
    expect([second.status, second.reason]).toEqual([503, 'too_many_tunnels'])
    // When the first closes / Then a new one opens
    const gone = readUntilClosed(first)
    first.destroy()
    await gone
    await new Promise((r) => setTimeout(r, 50))
    const third = await send(connectReq(`allowed.test:${echoPort}`))
    expect(third.status).toBe(200)
    third.socket.destroy()
  })

  it('closes an idle tunnel', async () => {
    settings.idleTimeoutMs = 150
    const socket = await openTo('other.test')
    const started = Date.now()
    await readUntilClosed(socket)
    expect(Date.now() - started).toBeLessThan(2000)
    expect(proxy.tunnels()).toEqual([])
  })
})

describe('egress CONNECT proxy: a real TLS client through the tunnel', () => {
  const openssl = requireTool('openssl', 'apt-get install openssl')
  let tlsDir: string
  let tlsServer: TlsServer
  let tlsPort: number

  beforeAll(async () => {
    if (openssl.skip) return
    tlsDir = mkdtempSync(join(tmpdir(), 'osmoda-egress-tls-'))
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(tlsDir, 'k.pem'), '-out', join(tlsDir, 'c.pem'), '-days', '1', '-subj', '/CN=tls.test', '-addext', 'subjectAltName=DNS:tls.test'], {stdio: 'ignore'})
    tlsServer = createTlsServer({key: readFileSync(join(tlsDir, 'k.pem')), cert: readFileSync(join(tlsDir, 'c.pem'))}, (s) => {
      s.on('data', (d: Buffer) => s.write(`tls:${d.toString()}`))
      s.on('error', () => {})
    })
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve))
    tlsPort = (tlsServer.address() as {port: number}).port
  })
  afterAll(() => {
    if (openssl.skip) return
    tlsServer.close()
    rmSync(tlsDir, {recursive: true, force: true})
  })

  const through = async (servername: string) => {
    settings.requireSniMatch = true
    settings.policy = policyFrom({default_allow: ['tls.test'], allowed_ports: [tlsPort], allow_private_cidrs: ['127.0.0.0/8']})
    const answer = await send(connectReq(`tls.test:${tlsPort}`))
    expect(answer.status).toBe(200)
    const tls = tlsConnect({socket: answer.socket, servername, ca: readFileSync(join(tlsDir, 'c.pem')), checkServerIdentity: () => undefined})
    return new Promise<string>((resolve) => {
      tls.once('secureConnect', () => tls.write('ping'))
      tls.once('data', (d: Buffer) => (resolve(d.toString()), tls.destroy()))
      tls.once('error', (e) => resolve(`error: ${e.message}`))
      tls.once('close', () => resolve('closed'))
    })
  }

  it.skipIf(openssl.skip)('completes a handshake whose SNI is the CONNECT host, and is cut off when it names another', async () => {
    expect(await through('tls.test')).toBe('tls:ping')
    expect(await through('evil.example')).toMatch(/^(closed|error: .*)$/)
    expect(deniedEvents()).toEqual([expect.objectContaining({host: 'tls.test', reason: 'sni_mismatch'})])
  })
})
