import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {connect, createServer, type Server, type Socket} from 'node:net'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {egressApi} from '../src/daemons/egress/api.js'
import {openLedger} from '../src/lib/ledger/ledger.js'
import {badInputTable, socketSender, type BadInputCase} from './helpers/bad-input.js'
import {BIN, testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'

let env: TestEnv
let agentd: DaemonProcess
let egress: DaemonProcess
let upstream: Server
let port: number

beforeAll(async () => {
  upstream = createServer((s) => {
    s.on('data', (d: Buffer) => s.write(`echo:${d.toString()}`))
    s.on('error', () => {})
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  port = (upstream.address() as {port: number}).port
  env = await testEnv()
  agentd = await env.start('agentd')
  // Loopback is opened for the test; the TLS-less upstream needs requireSniMatch off.
  egress = await env.start('egress', {
    OSMODA_EGRESS_ALLOWED_PORTS: JSON.stringify([port]),
    OSMODA_EGRESS_ALLOW_PRIVATE_CIDRS: '["127.0.0.0/8"]',
    OSMODA_EGRESS_REQUIRE_SNI_MATCH: 'false',
  })
}, 60_000)

afterAll(async () => {
  await egress?.stopClean()
  await agentd?.stopClean()
  upstream?.close()
  await env?.cleanup()
})

/** CONNECT over the sandboxes' Unix socket; resolves with the status, deny reason and socket. */
function connectVia(target: string, token: string | null): Promise<{status: number; reason: string | null; socket: Socket}> {
  return new Promise((resolve, reject) => {
    const socket = connect(join(env.paths.runDir, 'egress-proxy.sock'))
    let buf = ''
    socket.on('data', function onData(d: Buffer) {
      buf += d.toString('latin1')
      const end = buf.indexOf('\r\n\r\n')
      if (end < 0) return
      socket.off('data', onData)
      resolve({status: Number(buf.split(' ')[1]), reason: /x-osmoda-deny-reason: (\S+)/i.exec(buf)?.[1] ?? null, socket})
    })
    socket.once('error', reject)
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${token ? `Proxy-Authorization: Bearer ${token}\r\n` : ''}\r\n`)
  })
}

const ledgerTypes = (type: string) => {
  const ledger = openLedger(env.paths.ledgerDb, {readonly: true})
  try {
    return ledger.query({type, limit: 100, order: 'asc'})
  } finally {
    ledger.close()
  }
}

describe('egress daemon with agentd', () => {
  it('serves health with its extra fields and fetches the revocation list from agentd', async () => {
    const client = env.client('egress', egressApi)
    let health = await client.health()
    for (let i = 0; i < 50 && !health.revocations_fresh; i++) {
      await new Promise((r) => setTimeout(r, 100))
      health = await client.health()
    }
    expect(health).toMatchObject({status: 'ok', daemon: 'egress', tunnels_active: 0, revocations_fresh: true, listen: {address: '127.0.0.1', proxy_socket: join(env.paths.runDir, 'egress-proxy.sock')}})
    expect(health.listen.port).toBeGreaterThan(0)
    client.close()
  })

  it('tunnels with a minted token on the sandbox socket, refuses it once revoked, refuses a missing token', async () => {
    // Given a token minted through the CLI for the loopback upstream
    const minted = await env.cli(['capability', 'mint', '--to', 'sandbox:test', '--perm', `net:127.0.0.1:${port}`, '--json'])
    expect(minted.exitCode).toBe(0)
    const {token, id} = minted.json.result as {token: string; id: string}
    // When a sandbox connects with it / Then it gets a tunnel
    const open = await connectVia(`127.0.0.1:${port}`, token)
    expect(open.status).toBe(200)
    open.socket.write('hi')
    expect(await new Promise((r) => open.socket.once('data', (d: Buffer) => r(d.toString())))).toBe('echo:hi')
    const tunnels = await env.client('egress', egressApi).tunnels()
    expect(tunnels.tunnels).toMatchObject([{host: '127.0.0.1', port, token_id: id, listener: 'unix', bytes_up: 2}])
    open.socket.destroy()
    // When the operator revokes it and egress reloads (which refreshes the list at once)
    expect((await env.cli(['capability', 'revoke', id, '--json'])).exitCode).toBe(0)
    expect((await env.cli(['capability', 'verify', token, '--audience', 'egress', '--json'])).json.error).toMatchObject({code: 'VERIFICATION_FAILED', details: {reason: 'revoked'}})
    expect((await env.cli(['capability', 'revoked', '--json'])).json.result.revoked).toEqual([expect.objectContaining({token_id: id})])
    await env.client('egress', egressApi).reload()
    // Then the same CONNECT is refused, and so is one without a token
    expect(await connectVia(`127.0.0.1:${port}`, token).then((a) => (a.socket.destroy(), [a.status, a.reason]))).toEqual([403, 'token_revoked'])
    expect(await connectVia(`127.0.0.1:${port}`, null).then((a) => (a.socket.destroy(), [a.status, a.reason]))).toEqual([403, 'token_required'])
    // And the ledger holds the story
    expect(ledgerTypes('egress.allowed').map((e) => e.payload)).toEqual([{host: '127.0.0.1', port, addresses: ['127.0.0.1'], token_id: id, listener: 'unix'}])
    expect(ledgerTypes('egress.denied').map((e) => [e.payload.reason, e.payload.token_id])).toEqual([
      ['token_revoked', id],
      ['token_required', null],
    ])
  })

  it('stores the operator allowlist, which agentd then uses for the mint policy', async () => {
    // Given an agent minting for a host outside the default allowlist: it needs an approval
    const agent = env.client('agentd', agentdApi, 'agent', {'x-osmoda-agent-id': 'ops'})
    const before = await agent.capabilityMint({granted_to: 'x', permissions: ['net:registry.lan']}).catch((e: {code: string}) => e.code)
    // (412 APPROVAL_REQUIRED once the approval gate is wired; this build's closed gate refuses with FEATURE_DISABLED)
    expect(['APPROVAL_REQUIRED', 'FEATURE_DISABLED']).toContain(before)
    // When the operator adds it to egress's allowlist
    const put = await env.client('egress', egressApi).allowlistPut({default_allow: ['registry.lan', 'GitHub.com.']})
    expect(put).toEqual({default_allow: ['registry.lan', 'github.com'], allowed_ports: [port], allow_private_cidrs: ['127.0.0.0/8'], source: 'state'})
    expect(JSON.parse(readFileSync(join(env.paths.stateDir, 'egress', 'allowlist.json'), 'utf8'))).toMatchObject({default_allow: ['registry.lan', 'github.com']})
    expect(ledgerTypes('egress.allowlist_changed')).toEqual([expect.objectContaining({actor: expect.stringMatching(/^operator:/), payload: {sha256: expect.stringMatching(/^[0-9a-f]{64}$/)}})])
    expect(await env.client('egress', egressApi, 'agent').allowlistGet()).toEqual(put)
    expect((await env.cli(['egress', 'allowlist', '--json'])).json.result).toEqual(put)
    // And the CLI refuses a bad host with a usage error, changing nothing
    const bad = await env.cli(['egress', 'allowlist', 'set', '--allow', 'https://x', '--json'])
    expect([bad.exitCode, bad.json.error.code]).toEqual([2, 'VALIDATION_FAILED'])
    expect((await env.cli(['egress', 'status', '--json'])).json.result).toMatchObject({daemon: 'egress', revocations_fresh: true})
    // Then the agent's mint needs no approval any more
    const minted = await agent.capabilityMint({granted_to: 'x', permissions: [`net:registry.lan:${port}`]})
    expect(minted.permissions).toEqual([`net:registry.lan:${port}`])
    agent.close()
  })

  it('serves token-less CONNECTs on its TCP listener against the allowlist, which a PUT changes at once', async () => {
    // Given egress's TCP port from its health
    const client = env.client('egress', egressApi)
    const tcpPort = (await client.health()).listen.port as number
    const viaTcp = (target: string) =>
      new Promise<{status: number; reason: string | null}>((resolve, reject) => {
        const socket = connect(tcpPort, '127.0.0.1')
        let buf = ''
        socket.on('data', (d: Buffer) => {
          buf += d.toString('latin1')
          if (!buf.includes('\r\n\r\n')) return
          socket.destroy()
          resolve({status: Number(buf.split(' ')[1]), reason: /x-osmoda-deny-reason: (\S+)/i.exec(buf)?.[1] ?? null})
        })
        socket.once('error', reject)
        socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`)
      })
    // Then the loopback upstream is refused while the allowlist does not name it
    expect(await viaTcp(`127.0.0.1:${port}`)).toEqual({status: 403, reason: 'host_not_allowed'})
    // When the operator allows it / Then the next CONNECT tunnels
    await client.allowlistPut({default_allow: ['127.0.0.1']})
    expect(await viaTcp(`127.0.0.1:${port}`)).toEqual({status: 200, reason: null})
    expect(ledgerTypes('egress.allowed').at(-1)?.payload).toMatchObject({host: '127.0.0.1', token_id: null, listener: 'tcp'})
    client.close()
  })

  it('refuses a bad permission from the CLI with a usage error, and a second egress on a taken port with a clear message', async () => {
    const bad = await env.cli(['capability', 'mint', '--to', 'x', '--perm', 'net:github.com:99999', '--json'])
    expect([bad.exitCode, bad.json.error.code]).toEqual([2, 'VALIDATION_FAILED'])
    expect(bad.json.error.details.join(' ')).toMatch(/port must be 1\.\.65535/)
    const second = spawnSync(process.execPath, [BIN, 'daemon', 'egress'], {env: {...env.env, OSMODA_EGRESS_LISTEN_PORT: String(port), OSMODA_RUN_DIR: join(env.base, 'run2')}, encoding: 'utf8', timeout: 20_000})
    expect(second.status).toBe(1)
    expect(second.stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/)
    // A bad config value fails start with a usage error naming the key
    const badConfig = spawnSync(process.execPath, [BIN, 'daemon', 'egress'], {env: {...env.env, OSMODA_EGRESS_ALLOW_PRIVATE_CIDRS: '["10.0.0.0/99"]', OSMODA_RUN_DIR: join(env.base, 'run3')}, encoding: 'utf8', timeout: 20_000})
    expect(badConfig.status).toBe(2)
    expect(badConfig.stderr).toMatch(/allowPrivateCidrs/)
  })

  const cases: BadInputCase[] = [
    {name: 'PUT malformed JSON', method: 'PUT', path: '/egress/allowlist', body: '{"default_allow": [', wantStatus: 400, wantCode: 'INVALID_JSON'},
    {name: 'PUT missing default_allow', method: 'PUT', path: '/egress/allowlist', body: '{}', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'PUT default_allow not a list', method: 'PUT', path: '/egress/allowlist', body: '{"default_allow": "github.com"}', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'PUT a URL as host', method: 'PUT', path: '/egress/allowlist', body: '{"default_allow": ["https://github.com"]}', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'PUT a host with a port', method: 'PUT', path: '/egress/allowlist', body: '{"default_allow": ["github.com:443"]}', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'PUT 257 hosts', method: 'PUT', path: '/egress/allowlist', body: JSON.stringify({default_allow: Array.from({length: 257}, (_, i) => `h${i}.example`)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'PUT port 0', method: 'PUT', path: '/egress/allowlist', body: '{"default_allow": [], "allowed_ports": [0]}', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'PUT port 65536', method: 'PUT', path: '/egress/allowlist', body: '{"default_allow": [], "allowed_ports": [65536]}', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'PUT no ports', method: 'PUT', path: '/egress/allowlist', body: '{"default_allow": [], "allowed_ports": []}', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'PUT bad CIDR', method: 'PUT', path: '/egress/allowlist', body: '{"default_allow": [], "allow_private_cidrs": ["10.0.0.0/33"]}', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'PUT unknown field', method: 'PUT', path: '/egress/allowlist', body: '{"default_allow": [], "source": "state"}', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'PUT by the agent', method: 'PUT', path: '/egress/allowlist', role: 'agent', body: '{"default_allow": ["evil.example"]}', wantStatus: 403, wantCode: 'FORBIDDEN'},
    {name: 'PUT without a token', method: 'PUT', path: '/egress/allowlist', role: 'none', body: '{"default_allow": []}', wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
    {name: 'tunnels by the agent', method: 'GET', path: '/egress/tunnels', role: 'agent', wantStatus: 403, wantCode: 'FORBIDDEN'},
    {name: 'tunnels with a query field', method: 'GET', path: '/egress/tunnels?all=1', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'allowlist DELETE', method: 'DELETE', path: '/egress/allowlist', wantStatus: 405, wantCode: 'METHOD_NOT_ALLOWED'},
    {name: 'unknown route', method: 'GET', path: '/egress/nope', wantStatus: 404, wantCode: 'NOT_FOUND'},
  ]

  const allowlist = () => {
    const file = join(env.paths.stateDir, 'egress', 'allowlist.json')
    return existsSync(file) ? readFileSync(file, 'utf8') : null
  }
  badInputTable('bad input: the envelope, allowlist unchanged', cases, {
    send: socketSender({socket: () => egress.socket, token: (role) => env.token(role)}),
    state: () => ({allowlist: allowlist()}),
  })
})
