import {generateKeyPairSync} from 'node:crypto'
import {chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer as createTcpServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {requireTool} from '../../../../test/helpers/system-tool.js'
import {signCapability, type CapabilityClaims} from '../../../lib/capability.js'
import {migrate, openDatabase, type Db} from '../../../lib/db/open.js'
import type {OsmodaError} from '../../../lib/errors.js'
import {createIdGenerator} from '../../../lib/ids.js'
import {openLedger, type Ledger} from '../../../lib/ledger/ledger.js'
import {AGENTD_MIGRATIONS} from '../store.js'
import {SandboxExecInput} from './api.js'
import {findSystemEntries, nodeBinary, packageDir, resolveSandboxUser, systemdIsPid1} from './host-env.js'
import {createSandboxProbe} from './probe.js'
import {createRevocationCheck} from './revocations.js'
import {createSandboxService, type SandboxService} from './service.js'
import {startFakeEgress, type FakeEgress} from '../../../../test/helpers/fake-egress.js'

const bwrap = requireTool('bwrap', 'apt-get install bubblewrap')
const node = generateKeyPairSync('ed25519')
const stranger = generateKeyPairSync('ed25519')
const newId = createIdGenerator()
const asRoot = process.getuid?.() === 0
const user = resolveSandboxUser('osmoda-sandbox')

let base: string
let ledger: Ledger
let db: Db
let service: SandboxService
let egress: FakeEgress
let web: Server
let webPort: number

/** A directory the sandbox user can traverse (mkdtemp makes 0700 dirs). */
function openDir(path: string, owner?: number): string {
  mkdirSync(path, {recursive: true})
  chmodSync(path, 0o755)
  if (owner !== undefined && asRoot) chownSync(path, owner, owner)
  return path
}

const mint = (perms: string[], over: Partial<CapabilityClaims> = {}, key = node.privateKey) => {
  const iat = Math.floor(Date.now() / 1000)
  const claims: CapabilityClaims = {jti: newId('cap'), sub: 'agent:test', iat, exp: iat + 900, perms, aud: ['egress', 'sandbox'], ...over}
  return {token: signCapability(claims, key), jti: claims.jti}
}

const run = (input: Record<string, unknown>) => service.exec(SandboxExecInput.parse(input), {actor: 'agent:test', signal: new AbortController().signal})
const failure = (input: Record<string, unknown>) => run(input).then(() => ({code: 'NO_ERROR'}) as unknown as OsmodaError, (error: OsmodaError) => error)

beforeAll(async () => {
  if (bwrap.skip) return
  base = openDir(mkdtempSync(join(tmpdir(), 'osmoda-sandbox-')))
  openDir(join(base, 'run'))
  // A state dir with a world-readable secret: only the sandbox's mount namespace can hide it.
  mkdirSync(join(base, 'state', 'tokens'), {recursive: true})
  writeFileSync(join(base, 'state', 'tokens', 'operator'), 'osm_op_secret\n', {mode: 0o644})
  chmodSync(join(base, 'state'), 0o755)
  chmodSync(join(base, 'state', 'tokens'), 0o755)
  ledger = openLedger(join(base, 'ledger.db'))
  db = openDatabase(join(base, 'agentd.db'))
  migrate(db, AGENTD_MIGRATIONS)
  // The "allowed local host": a plain HTTP server on the host's loopback.
  web = createTcpServer((socket) => socket.once('data', () => socket.end('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello from the allowed host')))
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve))
  webPort = (web.address() as {port: number}).port
  egress = await startFakeEgress({socketPath: join(base, 'run', 'egress-proxy.sock'), verifyKey: node.publicKey, hosts: {'allowed.test': webPort, 'other.test': webPort}})
  const system = findSystemEntries()
  service = createSandboxService({
    ledger,
    probe: createSandboxProbe(() => ({user: user.user, userDescription: user.description, system, enabled: true})),
    settings: () => ({enable: true, memoryMax: '512M', pidsMax: 256, maxTimeoutSecs: 600, denyPaths: ['/etc/shadow', '/root', join(base, 'state', 'tokens')]}),
    user: user.user,
    system,
    systemd: systemdIsPid1(),
    verifyKey: node.publicKey,
    isRevoked: createRevocationCheck(db),
    egressSocket: join(base, 'run', 'egress-proxy.sock'),
    helper: {node: nodeBinary(), packageDir: packageDir()},
  })
})

afterAll(async () => {
  if (bwrap.skip) return
  await egress?.close()
  web?.close()
  ledger?.close()
  db?.close()
  rmSync(base, {recursive: true, force: true})
})

describe.skipIf(bwrap.skip)('tier 2 sandbox (real bubblewrap)', () => {
  it('runs as the unprivileged sandbox user with a clean env, feeds stdin and ledgers the run', async () => {
    // When a command reads stdin and prints who it is and its environment
    const result = await run({command: 'id -u; cat; env | sort', stdin: 'from stdin\n'})
    // Then it ran as nobody (dev fallback under root) with only PATH, HOME=/tmp and LANG
    expect(result).toMatchObject({tier: 2, exit_code: 0, timed_out: false, token_id: null})
    const [uid, line, ...env] = result.stdout.trim().split('\n')
    expect(uid).toBe(String(asRoot ? 65534 : process.getuid?.()))
    expect(line).toBe('from stdin')
    expect(env.filter((e) => !e.startsWith('PWD=') && !e.startsWith('SHLVL=') && !e.startsWith('_='))).toEqual(['HOME=/tmp', 'LANG=C.UTF-8', 'PATH=/run/current-system/sw/bin:/usr/bin:/bin'])
    // And the run is one sandbox.executed event
    const [event] = ledger.query({type: 'sandbox.executed', limit: 1, order: 'desc'})
    expect(event).toMatchObject({actor: 'agent:test', payload: {tier: 2, argv: ['/bin/sh', '-c', 'id -u; cat; env | sort'], exit_code: 0, timed_out: false, token_id: null}})
    if (!systemdIsPid1()) expect(result.warnings.join(' ')).toMatch(/not enforced: systemd is not PID 1/)
  })

  it('cannot write outside its private /tmp', async () => {
    // When it tries to write into the system dirs, the root and /tmp
    const result = await run({command: 'for d in / /usr /bin /etc /nix/store /home; do touch "$d/osmoda-escape" 2>/dev/null && echo "wrote $d"; done; touch /tmp/f && echo tmp-ok'})
    // Then only /tmp took the write, and nothing appeared on the host
    expect(result.stdout.trim()).toBe('tmp-ok')
    for (const d of ['/', '/usr', '/etc']) expect(existsSync(join(d, 'osmoda-escape'))).toBe(false)
  })

  it('cannot read /root or the osmoda state dir, even a world-readable file there', async () => {
    const secret = join(base, 'state', 'tokens', 'operator')
    const result = await run({argv: ['/bin/sh', '-c', `cat ${secret}; ls /root; ls ${base}; echo done`]})
    expect(result.stdout).not.toContain('osm_op_secret')
    expect(result.stdout.trim()).toBe('done')
    expect(result.stderr).toMatch(/No such file/)
  })

  it('cannot reach the network, not even the host loopback, and has only lo', async () => {
    // Given a server listening on the host's 127.0.0.1
    const probe = `require('net').connect(${webPort}, '127.0.0.1').on('connect', () => console.log('connected')).on('error', (e) => console.log(e.code))`
    // When the sandbox connects to it / Then it is refused: its loopback is its own
    const result = await run({argv: ['node', '-e', probe]})
    expect(result.stdout.trim()).toBe('ECONNREFUSED')
    const dev = await run({argv: ['cat', '/proc/net/dev']})
    expect(dev.stdout.split('\n').slice(2).filter(Boolean).map((l) => l.trim().split(':')[0])).toEqual(['lo'])
  })

  it('cannot see host processes', async () => {
    const result = await run({command: `ls /proc | grep -cE '^[0-9]+$'; test -e /proc/${process.pid} && echo sees-host`})
    expect(Number(result.stdout.split('\n')[0])).toBeLessThanOrEqual(4)
    expect(result.stdout).not.toContain('sees-host')
  })

  it('kills the whole sandbox at the deadline and caps output', async () => {
    const slow = await run({argv: ['sleep', '30'], timeout_secs: 1})
    expect(slow).toMatchObject({timed_out: true, exit_code: null})
    expect(slow.duration_ms).toBeLessThan(5000)
    const loud = await run({command: "head -c 5000 /dev/zero | tr '\\0' a", max_output_bytes: 1024})
    expect(loud).toMatchObject({stdout_truncated: true, exit_code: 0})
    expect(loud.stdout).toBe('a'.repeat(1024))
  })

  it('ledgers a long argv shortened, with the digest of the whole', async () => {
    const long = ['echo', ...Array.from({length: 100}, (_, i) => `${i}:${'x'.repeat(800)}`)]
    const result = await run({argv: long})
    expect(result.exit_code).toBe(0)
    const [event] = ledger.query({type: 'sandbox.executed', limit: 1, order: 'desc'})
    expect(event?.payload).toMatchObject({argv_truncated: true, argv_sha256: expect.stringMatching(/^[0-9a-f]{64}$/)})
    expect((event?.payload.argv as string[]).length).toBe(32)
  })

  it('refuses a cwd that does not exist inside, and a timeout over sandbox.maxTimeoutSecs', async () => {
    expect(await failure({argv: ['pwd'], cwd: '/etc'})).toMatchObject({code: 'VALIDATION_FAILED'})
    expect(await failure({argv: ['pwd'], cwd: '/tmp/sub'})).toMatchObject({code: 'VALIDATION_FAILED'})
  })
})

describe.skipIf(bwrap.skip)('tier 1 sandbox (capability tokens)', () => {
  it('mounts fs:read read-only and fs:write writable, and nothing else of the host', async () => {
    // Given a readable dir with a file and a dir the sandbox user owns
    const ro = openDir(join(base, 'ro'))
    writeFileSync(join(ro, 'in.txt'), 'input data\n', {mode: 0o644})
    const rw = openDir(join(base, 'rw'), 65534)
    const {token, jti} = mint([`fs:read:${ro}`, `fs:write:${rw}`], {aud: ['sandbox']})
    // When the sandbox reads, tries to write the read-only dir and writes the writable one
    const result = await run({
      tier: 1,
      capability: token,
      cwd: rw,
      command: `cat ${ro}/in.txt; touch ${ro}/nope 2>/dev/null || echo ro-refused; echo out > result && echo wrote; cat ${base}/state/tokens/operator 2>/dev/null || echo no-state`,
    })
    // Then each behaves as granted and the write landed on the host
    expect(result.stdout.split('\n').filter(Boolean)).toEqual(['input data', 'ro-refused', 'wrote', 'no-state'])
    expect(result.token_id).toBe(jti)
    expect(readFileSync(join(rw, 'result'), 'utf8')).toBe('out\n')
    expect(existsSync(join(ro, 'nope'))).toBe(false)
    const [event] = ledger.query({type: 'sandbox.executed', limit: 1, order: 'desc'})
    expect(event?.payload).toMatchObject({tier: 1, token_id: jti})
    expect(JSON.stringify(event)).not.toContain(token)
  })

  it('reaches an allowed host through egress with the token, and nothing else; the token stays out of the child', async () => {
    // Given a token for allowed.test only
    const {token, jti} = mint([`net:allowed.test:${webPort}`])
    const client = `
      const http = require('http'); const proxy = new URL(process.env.HTTPS_PROXY)
      const get = (host) => new Promise((done) => {
        const req = http.request({host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: host + ':${webPort}', headers: {'proxy-authorization': 'Bearer forged'}})
        req.on('connect', (res, sock, head) => {
          if (res.statusCode !== 200) { sock.destroy(); return done(host + ' ' + res.statusCode) }
          let body = head.toString(); sock.on('data', (c) => body += c); sock.on('end', () => done(host + ' ' + body.split('\\r\\n\\r\\n')[1]))
          sock.write('GET / HTTP/1.0\\r\\nHost: ' + host + '\\r\\n\\r\\n')
        })
        req.on('error', (e) => done(host + ' ' + e.code)); req.end()
      })
      const direct = () => new Promise((done) => require('net').connect(${webPort}, '127.0.0.1').on('connect', () => done('direct connected')).on('error', (e) => done('direct ' + e.code)))
      const plain = () => new Promise((done) => http.get({host: proxy.hostname, port: proxy.port, path: 'http://allowed.test:${webPort}/'}, (res) => { res.resume(); done('plain ' + res.statusCode) }).on('error', (e) => done('plain ' + e.code)))
      ;(async () => { for (const r of [await get('allowed.test'), await get('other.test'), await direct(), await plain()]) console.log(r) })()`
    // When the sandboxed program goes through HTTPS_PROXY and also tries to connect directly
    const result = await run({tier: 1, capability: token, argv: ['node', '-e', client]})
    // Then the allowed host answers, the other host is denied by egress, the direct path is closed
    // and plain-HTTP proxying (not a CONNECT) is refused by the helper without reaching egress
    expect(result.stderr).toBe('')
    expect(result.stdout.trim().split('\n')).toEqual(['allowed.test hello from the allowed host', 'other.test 403', 'direct ECONNREFUSED', 'plain 405'])
    // And egress saw our token on every CONNECT (the client's forged header was dropped)
    expect(egress.requests.map((r) => [r.target, r.authorization])).toEqual([
      [`allowed.test:${webPort}`, `Bearer ${token}`],
      [`other.test:${webPort}`, `Bearer ${token}`],
    ])
    expect(result.token_id).toBe(jti)
  })

  it('never shows the token to the command: not in env, argv, /proc/*/environ or an open fd', async () => {
    const {token} = mint(['net:allowed.test'])
    const result = await run({
      tier: 1,
      capability: token,
      command: 'env; cat /proc/self/environ | tr "\\0" "\\n"; for p in /proc/[0-9]*; do cat $p/environ $p/cmdline 2>/dev/null | tr "\\0" " "; echo; done; test -e /proc/$$/fd/3 && echo fd-$((1+2))-open; true',
    })
    expect(result.exit_code).toBe(0)
    expect(result.stdout).toContain('HTTPS_PROXY=http://127.0.0.1:3128')
    expect(result.stdout).not.toContain(token)
    expect(result.stdout).not.toContain('osmcap1')
    expect(result.stdout).not.toContain('fd-3-open')
    // And the helper holding it is not even visible: the command runs in its own PID namespace
    expect(result.stdout).not.toContain('sandbox-init')
  })

  it.each([
    ['forged (another key)', () => mint(['fs:read:/usr'], {}, stranger.privateKey).token, 'bad_signature'],
    ['expired', () => mint(['fs:read:/usr'], {iat: 1_700_000_000, exp: 1_700_000_900}).token, 'expired'],
    ['for egress only', () => mint(['fs:read:/usr'], {aud: ['egress']}).token, 'wrong_audience'],
    ['malformed', () => 'osmcap1.bm9wZQ.AAAA', 'malformed'],
    ['granting a denied path', () => mint(['fs:read:/etc']).token, 'out_of_scope'],
    ['granting a missing path', () => mint(['fs:write:/srv/osmoda-no-such-dir']).token, 'out_of_scope'],
  ])('refuses a token that is %s with 403 POLICY_DENIED and runs nothing', async (_name, token, reason) => {
    const before = ledger.size()
    const error = await failure({tier: 1, capability: token(), argv: ['true']})
    expect(error).toMatchObject({code: 'POLICY_DENIED', details: {reason}})
    expect(ledger.size()).toBe(before)
  })

  it('refuses a revoked token', async () => {
    // Given a valid token whose row in agentd.db was revoked
    const {token, jti} = mint(['fs:read:/usr'])
    expect((await run({tier: 1, capability: token, argv: ['true']})).exit_code).toBe(0)
    db.prepare(
      "INSERT INTO capabilities (jti, granted_to, permissions, issued_at, expires_at, expires_ms, minted_by, revoked_at) VALUES (?, 'agent:test', '[]', 'x', 'x', 0, 'agent:test', '2026-11-26T00:00:00.000Z')",
    ).run(jti)
    // Then the next run is denied with reason revoked
    expect(await failure({tier: 1, capability: token, argv: ['true']})).toMatchObject({code: 'POLICY_DENIED', details: {reason: 'revoked', token_id: jti}})
  })
})

describe('availability', () => {
  it('answers 503 SANDBOX_UNAVAILABLE with the probe reason, and FEATURE_DISABLED when off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'osmoda-sandbox-off-'))
    const l = openLedger(join(dir, 'ledger.db'))
    try {
      const make = (enable: boolean) =>
        createSandboxService({
          ledger: l,
          probe: {check: async () => ({available: false, reason: 'bubblewrap (bwrap) is not installed'}), reset: () => {}},
          settings: () => ({enable, memoryMax: '512M', pidsMax: 256, maxTimeoutSecs: 600, denyPaths: []}),
          user: null,
          system: [],
          systemd: false,
          verifyKey: node.publicKey,
          isRevoked: () => false,
          egressSocket: join(dir, 'egress-proxy.sock'),
          helper: {node: '/usr/bin/node', packageDir: dir},
        })
      const ctx = {actor: 'agent:test', signal: new AbortController().signal}
      await expect(make(true).exec(SandboxExecInput.parse({argv: ['true']}), ctx)).rejects.toMatchObject({code: 'SANDBOX_UNAVAILABLE', httpStatus: 503, details: {reason: 'bubblewrap (bwrap) is not installed'}})
      await expect(make(false).exec(SandboxExecInput.parse({argv: ['true']}), ctx)).rejects.toMatchObject({code: 'FEATURE_DISABLED', details: {option: 'sandbox.enable'}})
      expect(l.size()).toBe(0)
      // And the real probe says why when disabled, without running anything
      expect(await createSandboxProbe(() => ({user: null, userDescription: 'x', system: [], enabled: false})).check()).toEqual({available: false, reason: 'disabled in config (sandbox.enable = false)'})
    } finally {
      l.close()
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it.skipIf(bwrap.skip)('reports bubblewrap\'s own error when it cannot start a sandbox', async () => {
    const broken = await createSandboxProbe(() => ({user: user.user, userDescription: user.description, system: [{path: '/nonexistent-osmoda-dir', symlink: null}], enabled: true})).check()
    expect(broken.available).toBe(false)
    expect(broken.reason).toMatch(/^bubblewrap could not start a sandbox as .*: bwrap: .*nonexistent-osmoda-dir/)
  })

  it.skipIf(bwrap.skip)('probes once and caches the answer', async () => {
    const probe = createSandboxProbe(() => ({user: user.user, userDescription: user.description, system: findSystemEntries(), enabled: true}))
    const first = probe.check()
    expect(probe.check()).toBe(first)
    expect(await first).toEqual({available: true, reason: null})
  })
})
