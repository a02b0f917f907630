// The egress CONNECT proxy: tunnels it opens, and every refusal with its reason.
import {readFileSync} from 'node:fs'
import {connect} from 'node:net'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {silentLogger} from '../../lib/log.js'
import {policyFrom} from './decision.js'
import {createEgressEvents} from './events.js'
import {createEgressProxy} from './proxy.js'
import {groupId} from '../../lib/rpc/socket-access.js'
import {allowedEvents, clock, connectReq, deniedEvents, dir, echoPort, ledger, node, other, proxy, readUntilClosed, revoked, send, setClock, setFresh, settings, token, unixPath, useEgressProxy} from '../../../test/helpers/egress-proxy-kit.js'

useEgressProxy()

describe('egress CONNECT proxy: allowed tunnels', () => {
  it('tunnels an allowed name, counts bytes, passes half-close both ways and ledgers egress.allowed', async () => {
    // When a token-less TCP client connects to a defaultAllow name
    const answer = await send(connectReq(`allowed.test:${echoPort}`))
    // Then it gets 200 and a working tunnel
    expect(answer.status).toBe(200)
    const closed = readUntilClosed(answer.socket)
    answer.socket.write('hello')
    await new Promise((r) => setTimeout(r, 100))
    expect(proxy.tunnels()).toMatchObject([{host: 'allowed.test', port: echoPort, token_id: null, listener: 'tcp', bytes_up: 5, bytes_down: 10}])
    // When the client half-closes / Then the upstream's last words still arrive, then the tunnel ends
    answer.socket.end()
    expect(await closed).toBe('echo:hellobye')
    await new Promise((r) => setTimeout(r, 50))
    expect(proxy.tunnels()).toEqual([])
    expect(allowedEvents()).toEqual([{host: 'allowed.test', port: echoPort, addresses: ['127.0.0.1'], token_id: null, listener: 'tcp'}])
    expect(proxy.stats()).toMatchObject({tunnels_active: 0, allowed_total: 1, denied_total: 0})
  })

  it('normalises case, a trailing dot and IDNA names before matching', async () => {
    // Given names written in upper case, with a trailing dot, under a wildcard, and in Unicode (percent-encoded on the wire)
    for (const target of [`ALLOWED.Test.:${echoPort}`, `x.WILD.test:${echoPort}`, `b%C3%BCcher.test:${echoPort}`, `B%C3%9Ccher.TEST.:${echoPort}`]) {
      const answer = await send(connectReq(target))
      // Then each is allowed as its normal form
      expect(answer.status, target).toBe(200)
      answer.socket.destroy()
    }
    expect(allowedEvents().map((e) => e.host)).toEqual(['allowed.test', 'x.wild.test', 'xn--bcher-kva.test', 'xn--bcher-kva.test'])
    expect(deniedEvents()).toEqual([])
    // And a bare *.wild.test or a name that is not one is refused
    expect((await send(connectReq(`wild.test:${echoPort}`))).reason).toBe('host_not_allowed')
    expect((await send(connectReq(`a..b:${echoPort}`))).reason).toBe('bad_host')
    expect((await send(connectReq(`%ZZ:${echoPort}`))).reason).toBe('bad_host')
  })

  it('gives the sandbox socket its group with mode 0660, and keeps it owner-only (0600) where the group does not exist', async () => {
    const {statSync} = await import('node:fs')
    // Given no osmoda-sandbox group here (dev, CI): the socket stays 0600
    if (groupId('osmoda-sandbox') === null) expect(statSync(unixPath).mode & 0o777).toBe(0o600)
    // The socket takes a group named in /etc/group that this user belongs to (its own primary group)
    const own = process.getgid?.() ?? 0
    const mine = readFileSync('/etc/group', 'utf8').split('\n').find((line) => line.split(':')[2] === String(own))?.split(':')[0]
    if (mine) {
      const second = createEgressProxy({settings: () => settings, verifyKey: node.publicKey, revocations: {fresh: () => true, isRevoked: () => false}, events: createEgressEvents({ledger}), log: silentLogger, socketGroup: mine})
      await second.listenUnix(join(dir, 'second.sock'))
      expect(statSync(join(dir, 'second.sock')).gid).toBe(own)
      expect(statSync(join(dir, 'second.sock')).mode & 0o777).toBe(0o660)
      await second.close()
    }
  })

  it('does not take over the Unix socket of a running proxy', async () => {
    const second = createEgressProxy({settings: () => settings, verifyKey: node.publicKey, revocations: {fresh: () => true, isRevoked: () => false}, events: createEgressEvents({ledger}), log: silentLogger})
    await expect(second.listenUnix(unixPath)).rejects.toMatchObject({code: 'ALREADY_EXISTS'})
    await second.close()
    expect((await send(connectReq(`allowed.test:${echoPort}`), 'unix')).reason).toBe('token_required')
  })

  it('opens no tunnel it cannot ledger, and survives a ledger that refuses denials', async () => {
    // Given a proxy whose ledger writes fail
    const broken = createEgressProxy({
      settings: () => settings,
      verifyKey: node.publicKey,
      revocations: {fresh: () => true, isRevoked: () => false},
      events: {allowed: () => { throw new Error('SQLITE_FULL') }, denied: () => { throw new Error('SQLITE_FULL') }, flush: () => {}},
      log: silentLogger,
      resolve: async () => ['127.0.0.1'],
    })
    const port = await broken.listenTcp('127.0.0.1', 0)
    const ask = (target: string) =>
      new Promise<string>((resolve) => {
        const socket = connect(port, '127.0.0.1')
        let text = ''
        socket.on('data', (d: Buffer) => (text += d.toString('latin1')))
        socket.once('close', () => resolve(text.split('\r\n')[0] ?? ''))
        socket.write(connectReq(target))
      })
    // Then an allowed CONNECT is refused with 502 instead of tunnelling unrecorded, and a denial still answers 403
    expect(await ask(`allowed.test:${echoPort}`)).toBe('HTTP/1.1 502 Bad Gateway')
    expect(await ask(`other.test:${echoPort}`)).toBe('HTTP/1.1 403 Forbidden')
    expect(broken.tunnels()).toEqual([])
    await broken.close()
  })

  it('tunnels with a token on the Unix socket to a host only the token names', async () => {
    const answer = await send(connectReq(`other.test:${echoPort}`, {'Proxy-Authorization': `Bearer ${token([`net:other.test:${echoPort}`])}`}), 'unix')
    expect(answer.status).toBe(200)
    answer.socket.write('x')
    expect(await new Promise((r) => answer.socket.once('data', (d: Buffer) => r(d.toString())))).toBe('echo:x')
    answer.socket.destroy()
    expect(allowedEvents()).toEqual([{host: 'other.test', port: echoPort, addresses: ['127.0.0.1'], token_id: 'cap_01JDQZ9V7C4Y3M2N1P0Q9R8S7T', listener: 'unix'}])
  })
})

describe('egress CONNECT proxy: refusals', () => {
  interface Case {
    name: string
    request: () => string
    via?: 'tcp' | 'unix'
    before?: () => void
    wantStatus: number
    wantReason: string
    wantTokenId?: string | null
    ledgered?: boolean
  }
  const bearer = (t: string) => ({'Proxy-Authorization': `Bearer ${t}`})
  const cases: Case[] = [
    {name: 'a disallowed name', request: () => connectReq(`other.test:${echoPort}`), wantStatus: 403, wantReason: 'host_not_allowed'},
    {name: 'a port outside allowedPorts', request: () => connectReq('allowed.test:25'), wantStatus: 403, wantReason: 'port_not_allowed'},
    {name: 'an IPv4 literal', request: () => connectReq(`8.8.8.8:${echoPort}`), wantStatus: 403, wantReason: 'ip_literal'},
    {name: 'an IPv6 literal', request: () => connectReq(`[2606:4700::1111]:${echoPort}`), wantStatus: 403, wantReason: 'ip_literal'},
    {name: 'a numeric name that is an address in disguise', request: () => connectReq(`127.1:${echoPort}`), wantStatus: 403, wantReason: 'bad_host'},
    {name: 'a name resolving to a refused range', request: () => connectReq(`private.test:${echoPort}`, bearer(token([`net:private.test:${echoPort}`]))), wantStatus: 403, wantReason: 'address_denied', wantTokenId: 'cap_01JDQZ9V7C4Y3M2N1P0Q9R8S7T'},
    {name: 'a name with one refused address among good ones', request: () => connectReq(`mixed.test:${echoPort}`, bearer(token([`net:mixed.test:${echoPort}`]))), wantStatus: 403, wantReason: 'address_denied', wantTokenId: 'cap_01JDQZ9V7C4Y3M2N1P0Q9R8S7T'},
    {name: 'loopback when allowPrivateCidrs does not open it', before: () => (settings.policy = policyFrom({default_allow: ['allowed.test'], allowed_ports: [echoPort], allow_private_cidrs: []})), request: () => connectReq(`allowed.test:${echoPort}`), wantStatus: 403, wantReason: 'address_denied'},
    {name: 'loopback as an IPv4-mapped answer when not opened', before: () => (settings.policy = policyFrom({default_allow: ['mapped.test'], allowed_ports: [echoPort], allow_private_cidrs: ['10.0.0.0/8']})), request: () => connectReq(`mapped.test:${echoPort}`), wantStatus: 403, wantReason: 'address_denied'},
    {name: 'no token on the Unix socket', via: 'unix', request: () => connectReq(`allowed.test:${echoPort}`), wantStatus: 403, wantReason: 'token_required'},
    {name: 'an expired token', via: 'unix', request: () => connectReq(`other.test:${echoPort}`, bearer(token([`net:other.test:${echoPort}`], {exp: Math.floor(clock / 1000) - 1}))), wantStatus: 403, wantReason: 'token_expired', wantTokenId: 'cap_01JDQZ9V7C4Y3M2N1P0Q9R8S7T'},
    {name: 'a revoked token', via: 'unix', before: () => revoked.add('cap_01JDQZ9V7C4Y3M2N1P0Q9R8S7T'), request: () => connectReq(`other.test:${echoPort}`, bearer(token([`net:other.test:${echoPort}`]))), wantStatus: 403, wantReason: 'token_revoked', wantTokenId: 'cap_01JDQZ9V7C4Y3M2N1P0Q9R8S7T'},
    {name: 'a forged token', via: 'unix', request: () => connectReq(`other.test:${echoPort}`, bearer(token([`net:other.test:${echoPort}`], {key: other.privateKey}))), wantStatus: 403, wantReason: 'token_bad_signature', wantTokenId: null},
    {name: 'a sandbox-only token', via: 'unix', request: () => connectReq(`other.test:${echoPort}`, bearer(token([`net:other.test:${echoPort}`], {aud: ['sandbox']}))), wantStatus: 403, wantReason: 'token_wrong_audience', wantTokenId: 'cap_01JDQZ9V7C4Y3M2N1P0Q9R8S7T'},
    {name: 'a garbled token', via: 'unix', request: () => connectReq(`other.test:${echoPort}`, bearer('osmcap1.%%%.x')), wantStatus: 403, wantReason: 'token_malformed'},
    {name: 'a token for another host', via: 'unix', request: () => connectReq(`allowed.test:${echoPort}`, bearer(token([`net:other.test:${echoPort}`]))), wantStatus: 403, wantReason: 'host_not_allowed', wantTokenId: 'cap_01JDQZ9V7C4Y3M2N1P0Q9R8S7T'},
    {name: 'a token for another port', via: 'unix', request: () => connectReq(`other.test:${echoPort}`, bearer(token(['net:other.test:443']))), wantStatus: 403, wantReason: 'host_not_allowed', wantTokenId: 'cap_01JDQZ9V7C4Y3M2N1P0Q9R8S7T'},
    {name: 'a token while revocations are stale', via: 'unix', before: () => setFresh(false), request: () => connectReq(`other.test:${echoPort}`, bearer(token([`net:other.test:${echoPort}`]))), wantStatus: 403, wantReason: 'revocations_stale'},
    {name: 'too many tunnels', before: () => (settings.maxTunnels = 0 as never), request: () => connectReq(`allowed.test:${echoPort}`), wantStatus: 503, wantReason: 'too_many_tunnels'},
    {name: 'a name that does not resolve', request: () => connectReq(`*.wild.test:${echoPort}`), wantStatus: 403, wantReason: 'bad_host'},
    {name: 'a DNS answer that never comes', before: () => (settings.policy = policyFrom({default_allow: ['slow.test'], allowed_ports: [echoPort], allow_private_cidrs: []})), request: () => connectReq(`slow.test:${echoPort}`), wantStatus: 504, wantReason: 'dns_timeout', ledgered: false},
    {name: 'an unknown name', before: () => (settings.policy = policyFrom({default_allow: ['nx.test'], allowed_ports: [echoPort], allow_private_cidrs: []})), request: () => connectReq(`nx.test:${echoPort}`), wantStatus: 502, wantReason: 'dns_failed', ledgered: false},
    {name: 'a closed upstream port', before: () => (settings.policy = policyFrom({default_allow: ['allowed.test'], allowed_ports: [1], allow_private_cidrs: ['127.0.0.0/8']})), request: () => connectReq('allowed.test:1'), wantStatus: 502, wantReason: 'connect_failed', ledgered: false},
    {name: 'GET with an absolute URI', request: () => `GET http://allowed.test:${echoPort}/ HTTP/1.1\r\nHost: allowed.test\r\n\r\n`, wantStatus: 405, wantReason: 'method_not_allowed', ledgered: false},
    {name: 'POST', request: () => 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n', wantStatus: 405, wantReason: 'method_not_allowed', ledgered: false},
    {name: 'CONNECT to a URL', request: () => connectReq('http://allowed.test/'), wantStatus: 400, wantReason: 'bad_target', ledgered: false},
    {name: 'CONNECT without a port', request: () => connectReq('allowed.test'), wantStatus: 400, wantReason: 'bad_target', ledgered: false},
    {name: 'garbage', request: () => '\x16\x03\x01\x00\x05hello\r\n\r\n', wantStatus: 400, wantReason: 'bad_request', ledgered: false},
    {name: 'huge headers', request: () => `${connectReq(`allowed.test:${echoPort}`).slice(0, -2)}X-Pad: ${'a'.repeat(9000)}\r\n\r\n`, wantStatus: 431, wantReason: 'headers_too_large', ledgered: false},
  ]

  it.each(cases)('$name → $wantStatus $wantReason', async (c) => {
    c.before?.()
    const answer = await send(c.request(), c.via ?? 'tcp')
    expect(answer.status).toBe(c.wantStatus)
    expect(answer.reason).toBe(c.wantReason)
    // The proxy closes a refused connection
    await new Promise<void>((resolve) => (answer.socket.destroyed ? resolve() : answer.socket.once('close', () => resolve())))
    const events = deniedEvents()
    if (c.ledgered === false) expect(events).toEqual([])
    else expect(events).toEqual([expect.objectContaining({reason: c.wantReason, token_id: c.wantTokenId ?? null, listener: c.via ?? 'tcp', count: 1})])
    expect(allowedEvents()).toEqual([])
    expect(proxy.tunnels()).toEqual([])
  })

  it('lets token-less TCP requests against defaultAllow through while revocations are stale', async () => {
    setFresh(false)
    const answer = await send(connectReq(`allowed.test:${echoPort}`))
    expect(answer.status).toBe(200)
    answer.socket.destroy()
  })

  it('opens an IP literal only when a token names it or allowPrivateCidrs covers it', async () => {
    // A token naming the literal: allowed (loopback is opened by allowPrivateCidrs)
    const named = await send(connectReq(`127.0.0.1:${echoPort}`, {'Proxy-Authorization': `Bearer ${token([`net:127.0.0.1:${echoPort}`])}`}), 'unix')
    expect(named.status).toBe(200)
    named.socket.destroy()
    // A token naming a different literal: ip_literal
    const other = await send(connectReq(`127.0.0.2:${echoPort}`, {'Proxy-Authorization': `Bearer ${token([`net:127.0.0.1:${echoPort}`])}`}), 'unix')
    expect(other.reason).toBe('host_not_allowed')
    // Covered by allowPrivateCidrs but not named anywhere: still not an allowed host
    const covered = await send(connectReq(`127.0.0.1:${echoPort}`))
    expect(covered.reason).toBe('host_not_allowed')
  })

  it('ledgers repeated denials of the same host, reason and token once per 10 s with a count', async () => {
    for (let i = 0; i < 5; i++) (await send(connectReq(`other.test:${echoPort}`))).socket.destroy()
    expect(deniedEvents()).toEqual([{host: 'other.test', port: echoPort, reason: 'host_not_allowed', token_id: null, listener: 'tcp', count: 1}])
    setClock(clock + 10_001)
    ;(await send(connectReq(`other.test:${echoPort}`))).socket.destroy()
    expect(deniedEvents().map((e) => e.count)).toEqual([1, 5])
    expect(proxy.stats().denied_total).toBe(6)
  })

  it('answers 408 to a request head that trickles in too slowly', async () => {
    const started = Date.now()
    const answer = await send(`CONNECT allowed.test:${echoPort} HTTP/1.1\r\nHost: a`)
    expect(answer.status).toBe(408)
    expect(answer.reason).toBe('header_timeout')
    expect(Date.now() - started).toBeLessThan(3000)
  })
})
