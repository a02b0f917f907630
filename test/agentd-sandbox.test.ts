import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {signCapability} from '../src/lib/capability.js'
import {openDatabase} from '../src/lib/db/open.js'
import {loadNodeKeys} from '../src/lib/identity.js'
import {createIdGenerator} from '../src/lib/ids.js'
import {badInputTable, ledgerSize, onRoute, socketSender} from './helpers/bad-input.js'
import {requireTool} from './helpers/system-tool.js'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'

const bwrap = requireTool('bwrap', 'apt-get install bubblewrap')
const newId = createIdGenerator()

let env: TestEnv
let agentd: DaemonProcess

beforeAll(async () => {
  env = await testEnv()
  agentd = await env.start('agentd')
})

afterAll(async () => {
  await agentd?.stopClean()
  await env?.cleanup()
})

/** A capability signed with this installation's node key, as POST /capability/mint would make it. */
function mint(perms: string[], jti = newId('cap')): string {
  const iat = Math.floor(Date.now() / 1000)
  return signCapability({jti, sub: 'agent:ops', iat, exp: iat + 600, perms, aud: ['sandbox']}, loadNodeKeys(env.paths).signingKey)
}

describe.skipIf(bwrap.skip)('POST /sandbox/exec through agentd', () => {
  it('reports the sandbox as available in GET /health', async () => {
    const client = env.client('agentd', agentdApi, 'agent')
    expect((await client.health()).sandbox).toEqual({available: true, reason: null})
    client.close()
  })

  it('runs a tier-2 command for the agent and ledgers sandbox.executed under its actor', async () => {
    // Given an agent client
    const agent = env.client('agentd', agentdApi, 'agent', {'x-osmoda-agent-id': 'ops'})
    // When it runs a command with stdin
    const result = await agent.sandboxExec({argv: ['tr', 'a-z', 'A-Z'], stdin: 'quiet words'})
    // Then the output comes back and the run is in the ledger
    expect(result).toMatchObject({tier: 2, exit_code: 0, stdout: 'QUIET WORDS', timed_out: false, token_id: null})
    const {events} = await agent.eventsLog({type: 'sandbox.executed', limit: 1})
    expect(events[0]).toMatchObject({actor: 'agent:ops', payload: {tier: 2, argv: ['tr', 'a-z', 'A-Z'], exit_code: 0, timed_out: false, token_id: null}})
    agent.close()
  })

  it('accepts a tier-1 token signed by the node key and refuses it once revoked in agentd.db', async () => {
    // Given a token for a read-only grant
    const jti = newId('cap')
    const token = mint(['fs:read:/usr/share'], jti)
    const agent = env.client('agentd', agentdApi, 'agent', {'x-osmoda-agent-id': 'ops'})
    const ok = await agent.sandboxExec({tier: 1, capability: token, command: 'test -d /usr/share && echo granted'})
    expect(ok).toMatchObject({tier: 1, exit_code: 0, stdout: 'granted\n', token_id: jti})
    // When the operator revokes it (the capabilities table of agentd.db)
    const db = openDatabase(join(env.paths.daemonStateDir('agentd'), 'agentd.db'))
    db.prepare("INSERT INTO capabilities (jti, granted_to, permissions, issued_at, expires_at, expires_ms, minted_by, revoked_at) VALUES (?, 'agent:ops', '[]', 'x', 'x', 0, 'agent:ops', 'now')").run(jti)
    db.close()
    // Then the same call is 403 POLICY_DENIED, reason revoked
    await expect(agent.sandboxExec({tier: 1, capability: token, command: 'true'})).rejects.toMatchObject({code: 'POLICY_DENIED', details: {reason: 'revoked', token_id: jti}})
    agent.close()
  })
})

describe.skipIf(bwrap.skip)('osmoda sandbox exec', () => {
  it('prints the command\'s output, and --json gives the whole result', async () => {
    const human = await env.cli(['sandbox', 'exec', '--', 'sh', '-c', 'echo out; echo err >&2'])
    expect(human).toMatchObject({exitCode: 0, stdout: 'out\n'})
    expect(human.stderr).toContain('err\n')
    const json = await env.cli(['sandbox', 'exec', '--json', '--input', 'abc', '--', 'wc', '-c'])
    expect(json.exitCode).toBe(0)
    expect(json.json).toMatchObject({status: 0, result: {tier: 2, exit_code: 0, stdout: '3\n'}})
  })

  it('exits 1 when the command fails, 2 on usage errors, 4 on a bad token', async () => {
    const failed = await env.cli(['sandbox', 'exec', '--command', 'exit 7'])
    expect(failed.exitCode).toBe(1)
    expect(failed.stderr).toContain('exit code 7')
    expect((await env.cli(['sandbox', 'exec'])).exitCode).toBe(2)
    expect((await env.cli(['sandbox', 'exec', '--tier', '1', '--', 'true'])).exitCode).toBe(2)
    const denied = await env.cli(['sandbox', 'exec', '--tier', '1', '--json', '--', 'true'], {env: {OSMODA_CAPABILITY: 'osmcap1.e30.' + 'A'.repeat(86)}})
    expect(denied.exitCode).toBe(4)
    expect(denied.json).toMatchObject({error: {code: 'POLICY_DENIED', details: {reason: 'malformed'}}})
  })
})

const json = (value: unknown) => JSON.stringify(value)
const good = {argv: ['true']}

// Bad input for POST /sandbox/exec (ARCHITECTURE §8): the envelope, nothing run, nothing ledgered.
const cases = onRoute('POST', '/sandbox/exec', [
  {name: 'malformed JSON', body: '{"argv": [', wantStatus: 400, wantCode: 'INVALID_JSON'},
  {name: 'JSON array body', body: '["true"]', wantStatus: 400, wantCode: 'INVALID_JSON'},
  {name: 'no argv and no command', body: json({}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'both argv and command', body: json({argv: ['true'], command: 'true'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'argv a string', body: json({argv: 'true'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'argv empty', body: json({argv: []}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'argv with an empty string', body: json({argv: ['']}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'argv with a number', body: json({argv: ['echo', 1]}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'argv with NUL', body: json({argv: ['echo', 'a\u0000b']}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'argv of 257 items', body: json({argv: Array.from({length: 257}, () => 'x')}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'argv item over 8192', body: json({argv: ['echo', 'x'.repeat(8193)]}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'command empty', body: json({command: ''}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'command over 8192', body: json({command: 'x'.repeat(8193)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'tier 3', body: json({...good, tier: 3}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'tier 0', body: json({...good, tier: 0}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'tier as a string', body: json({...good, tier: '1'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'tier 1 without capability', body: json({...good, tier: 1}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'tier 2 with a capability', body: json({...good, capability: 'osmcap1.x.y'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'capability over 65536', body: json({...good, tier: 1, capability: 'x'.repeat(65_537)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'capability garbage', body: json({...good, tier: 1, capability: 'not-a-token'}), wantStatus: 403, wantCode: 'POLICY_DENIED'},
  {name: 'capability forged', body: json({...good, tier: 1, capability: 'osmcap1.e30.' + 'A'.repeat(86)}), wantStatus: 403, wantCode: 'POLICY_DENIED'},
  {name: 'cwd relative', body: json({...good, cwd: 'tmp'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'cwd with ..', body: json({...good, cwd: '/tmp/../etc'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'cwd over 4096', body: json({...good, cwd: '/' + 'd'.repeat(4096)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'cwd not inside the sandbox', body: json({...good, cwd: '/etc'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'stdin over 65536 bytes', body: json({...good, stdin: 'é'.repeat(32_769)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'stdin not a string', body: json({...good, stdin: ['a']}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'timeout 0', body: json({...good, timeout_secs: 0}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'timeout negative', body: json({...good, timeout_secs: -1}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'timeout fractional', body: json({...good, timeout_secs: 1.5}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'timeout over 600', body: json({...good, timeout_secs: 601}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'timeout huge', body: json({...good, timeout_secs: 1e12}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'max output under 1024', body: json({...good, max_output_bytes: 1023}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'max output over 262144', body: json({...good, max_output_bytes: 262_145}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'unknown field', body: json({...good, network: true}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'env smuggled in', body: json({...good, env: {LD_PRELOAD: '/tmp/x.so'}}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'wrong content type', headers: {'content-type': 'text/plain'}, body: json(good), wantStatus: 415, wantCode: 'UNSUPPORTED_MEDIA_TYPE'},
  {name: 'oversized body', body: json({argv: ['echo', 'x'.repeat(1024 * 1024 + 10)]}), wantStatus: 413, wantCode: 'PAYLOAD_TOO_LARGE'},
  {name: 'without token', role: 'none', body: json(good), wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
])

badInputTable('POST /sandbox/exec bad input: nothing run, nothing ledgered', cases, {
  // Every row without a role is the agent's: sandbox_exec is the agent's tool.
  send: socketSender({socket: () => agentd.socket, token: (role) => env.token(role), defaultRole: 'agent'}),
  state: () => ({ledger: ledgerSize(env.paths.ledgerDb)}),
  check: (res, c) => {
    if (c.wantCode === 'POLICY_DENIED') expect(res.body.error.details.reason).toMatch(/^(malformed|bad_signature)$/)
  },
})

describe('POST /sandbox/exec roles', () => {
  it('lets both roles call it (SPEC §2.1: O,A; sandbox_exec is never gated)', () => {
    expect(agentdApi.sandboxExec.roles).toEqual(['operator', 'agent'])
  })
})
