import {execFileSync} from 'node:child_process'
import {chmodSync, chownSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {createServer, type Server} from 'node:https'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {requireTool} from './helpers/system-tool.js'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'

// Tier-1 sandboxes reach the network only through the real egress daemon (SPEC §2.1 "Sandboxes",
// §2.9): the in-sandbox helper forwards CONNECTs to <run>/egress-proxy.sock with the token, and
// egress decides. Loopback is opened for the test with allowPrivateCidrs and the test port.
const bwrap = requireTool('bwrap', 'apt-get install bubblewrap')
const curl = requireTool('curl', 'apt-get install curl')
const openssl = requireTool('openssl', 'apt-get install openssl')
const skip = bwrap.skip || curl.skip || openssl.skip

let env: TestEnv
let agentd: DaemonProcess
let egress: DaemonProcess
let allowed: Server
let other: Server
let certDir: string
const portOf = (server: Server) => (server.address() as {port: number}).port

async function tlsServer(body: string): Promise<Server> {
  const server = createServer({key: readFileSync(join(certDir, 'key.pem')), cert: readFileSync(join(certDir, 'cert.pem'))}, (_req, res) => res.end(body))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server
}

beforeAll(async () => {
  if (skip) return
  certDir = mkdtempSync(join(tmpdir(), 'osmoda-tls-'))
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem')], {stdio: 'ignore'})
  allowed = await tlsServer('hello from the allowed host')
  other = await tlsServer('this must stay unreachable')
  env = await testEnv()
  agentd = await env.start('agentd')
  egress = await env.start('egress', {
    OSMODA_EGRESS_ALLOWED_PORTS: JSON.stringify([portOf(allowed), portOf(other)]),
    OSMODA_EGRESS_ALLOW_PRIVATE_CIDRS: '["127.0.0.0/8"]',
  })
  // As in production, where /run is world-traversable and the proxy socket belongs to the sandbox
  // user's group (osmoda-sandbox): here the test root is a 0700 temp dir and, as root without an
  // osmoda-sandbox user, sandboxes run as nobody, so open the path and hand the socket to nogroup.
  if (process.getuid?.() === 0) {
    chmodSync(dirname(env.paths.runDir), 0o711)
    chownSync(join(env.paths.runDir, 'egress-proxy.sock'), -1, 65_534)
    // Without an osmoda-sandbox group egress leaves its socket owner-only (0600); with the group it is 0660.
    chmodSync(join(env.paths.runDir, 'egress-proxy.sock'), 0o660)
  }
}, 60_000)

afterAll(async () => {
  await egress?.stopClean()
  await agentd?.stopClean()
  allowed?.close()
  other?.close()
  await env?.cleanup()
  if (certDir) rmSync(certDir, {recursive: true, force: true})
})

describe.skipIf(skip)('tier-1 sandbox through the real egress', () => {
  it('reaches the host its token names through egress, and nothing else', async () => {
    // Given a token for exactly the allowed server's address and port
    const operator = env.client('agentd', agentdApi)
    const minted = await operator.capabilityMint({granted_to: 'agent:ops', permissions: [`net:127.0.0.1:${portOf(allowed)}`], ttl_secs: 300})
    const agent = env.client('agentd', agentdApi, 'agent', {'x-osmoda-agent-id': 'ops'})
    const run = (url: string, extra: string[] = []) =>
      agent.sandboxExec({argv: ['curl', '-sS', '-k', '--max-time', '10', ...extra, url], tier: 1, capability: minted.token, timeout_secs: 30})
    // When the sandboxed command fetches it over HTTPS (curl uses HTTPS_PROXY, the helper adds the token)
    const ok = await run(`https://127.0.0.1:${portOf(allowed)}/`)
    // Then it gets the page, and egress ledgered the tunnel with the token id
    expect(ok, ok.stderr).toMatchObject({exit_code: 0, stdout: 'hello from the allowed host'})
    const {events} = await operator.eventsLog({type: 'egress.allowed', limit: 5})
    expect(events.some((e) => e.payload.port === portOf(allowed) && e.payload.token_id === minted.id)).toBe(true)
    // But another port on the same host is refused by egress (403 to the CONNECT), and ledgered
    const refused = await run(`https://127.0.0.1:${portOf(other)}/`)
    expect(refused.exit_code).not.toBe(0)
    expect(refused.stdout).not.toContain('unreachable')
    const denied = await operator.eventsLog({type: 'egress.denied', limit: 5})
    expect(denied.events.some((e) => e.payload.port === portOf(other) && e.payload.token_id === minted.id)).toBe(true)
    // And going around the proxy finds no network at all
    const direct = await run(`https://127.0.0.1:${portOf(allowed)}/`, ['--noproxy', '*'])
    expect(direct.exit_code).not.toBe(0)
    expect(direct.stdout).toBe('')
    // And once the token is revoked, egress refuses it (after its next revocation refresh) or agentd refuses to start the sandbox
    await operator.capabilityRevoke({token_id: minted.id})
    await expect(run(`https://127.0.0.1:${portOf(allowed)}/`)).rejects.toMatchObject({code: 'POLICY_DENIED'})
    agent.close()
    operator.close()
  }, 60_000)
})
