import {existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {rawRequest} from './helpers/raw-request.js'
import {badInputTable, ledgerSize, onRoute, socketSender} from './helpers/bad-input.js'
import {requireTool} from './helpers/system-tool.js'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'

const bwrap = requireTool('bwrap', 'apt-get install bubblewrap')

let env: TestEnv
let agentd: DaemonProcess
let operator: string
let agent: string
// A host dir outside /tmp that bad requests try to change.
let hostDir: string

const RATE_CALLS = 4

beforeAll(async () => {
  env = await testEnv()
  mkdirSync(env.paths.configDir, {recursive: true})
  writeFileSync(join(env.paths.configDir, 'agentd.json'), JSON.stringify({exec: {rateLimit: {calls: RATE_CALLS, windowSecs: 3600}}}))
  agentd = await env.start('agentd')
  operator = env.token('operator')
  agent = env.token('agent')
  hostDir = mkdtempSync('/var/tmp/osmoda-exec-e2e-')
  writeFileSync(join(hostDir, 'victim'), 'original')
})

afterAll(async () => {
  await agentd?.stopClean()
  await env?.cleanup()
  if (hostDir) rmSync(hostDir, {recursive: true, force: true})
})

const json = (value: unknown) => JSON.stringify(value)
const M = () => join(hostDir, 'marker')

// POST /shell/exec bad input (ARCHITECTURE §8): the envelope with a stable code, nothing run, nothing ledgered.
const cases = onRoute('POST', '/shell/exec', [
  {name: 'malformed JSON', body: '{"command": ', wantStatus: 400, wantCode: 'INVALID_JSON'},
  {name: 'no body (an empty object)', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'not JSON content type', body: json({command: 'id'}), headers: {'content-type': 'text/plain'}, wantStatus: 415, wantCode: 'UNSUPPORTED_MEDIA_TYPE'},
  {name: 'neither command nor argv', body: json({mode: 'sandbox'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'both command and argv', body: json({command: 'id', argv: ['id']}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'command wrong type', body: json({command: ['id']}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'empty command', body: json({command: ''}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'blank command', body: json({command: '   '}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'command over 8192', body: json({command: `echo ${'a'.repeat(8190)}`}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'argv empty list', body: json({argv: []}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'argv empty program', body: json({argv: ['', 'x']}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'argv over 256 items', body: json({argv: Array.from({length: 257}, () => 'true')}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'argv item not a string', body: json({argv: ['echo', 1]}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'argv item over 8192', body: json({argv: ['echo', 'a'.repeat(8193)]}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'NUL in command', body: json({command: 'touch /var/tmp/a\u0000b'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'NUL in argv', body: json({argv: ['touch', 'a\u0000b']}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'pipe without shell', body: json({command: 'id | tee /var/tmp/x'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'semicolon without shell', body: json({command: 'true; touch /var/tmp/x'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'newline without shell', body: json({command: 'true\ntouch /var/tmp/x'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'command substitution without shell', body: json({command: 'echo $(id)'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'unterminated quote', body: json({command: "echo 'abc"}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'shell with argv', body: json({argv: ['id'], shell: true}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'shell not a boolean', body: json({command: 'id', shell: 'yes'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'unknown mode', body: json({command: 'id', mode: 'root'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'relative cwd', body: json({command: 'id', cwd: 'tmp'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'cwd with ..', body: json({command: 'id', cwd: '/var/tmp/../etc'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'cwd with NUL', body: json({command: 'id', cwd: '/var\u0000'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'cwd over 4096', body: json({command: 'id', cwd: `/${'a'.repeat(4096)}`}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'cwd missing', body: json({command: 'id', cwd: '/nonexistent/osmoda'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'cwd is a file', body: json({command: 'id', cwd: '/etc/hostname'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'agent cwd on the deny list', role: 'agent', body: json({command: 'id', cwd: '/root'}), wantStatus: 403, wantCode: 'PATH_DENIED'},
  {name: 'agent cwd outside the read roots', role: 'agent', body: json({command: 'id', cwd: '/var/tmp'}), wantStatus: 403, wantCode: 'PATH_DENIED'},
  {name: 'timeout 0', body: json({command: 'id', timeout_secs: 0}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'timeout negative', body: json({command: 'id', timeout_secs: -5}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'timeout fractional', body: json({command: 'id', timeout_secs: 1.5}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'timeout absurd', body: json({command: 'id', timeout_secs: 1e300}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'timeout over 120 in sandbox mode', body: json({command: 'id', timeout_secs: 121}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'timeout over 1800 in host mode', body: json({command: 'id', mode: 'host', timeout_secs: 1801}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'max_output_bytes under 1024', body: json({command: 'id', max_output_bytes: 1023}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'max_output_bytes over 262144', body: json({command: 'id', max_output_bytes: 262_145}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'malformed approval_id', body: json({command: 'id', mode: 'host', approval_id: 'yes-please'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'approval_id in sandbox mode', body: json({command: 'id', approval_id: 'apr_01JDQZ9V7C4Y3M2N1P0Q9R8S7T'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'unknown field', body: json({command: 'id', user: 'root'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'env injection field', body: json({command: 'id', env: {LD_PRELOAD: '/x.so'}}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'oversized body', body: json({command: 'id', pad: 'x'.repeat(1024 * 1024 + 10)}), wantStatus: 413, wantCode: 'PAYLOAD_TOO_LARGE'},
  {name: 'agent: operator syntax', role: 'agent', body: json({command: 'rm -rf / && echo'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'agent: 1800 s in sandbox mode', role: 'agent', body: json({command: 'sleep 1', timeout_secs: 1800}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'without token', role: 'none', body: json({command: 'id'}), wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
])

badInputTable('POST /shell/exec bad input: nothing run, nothing ledgered', cases, {
  send: socketSender({socket: () => agentd.socket, token: (role) => (role === 'agent' ? agent : operator)}),
  state: () => ({ledger: ledgerSize(env.paths.ledgerDb)}),
})

describe('POST /shell/exec bad input', () => {
  it('says how to run shell syntax', async () => {
    const res = await rawRequest(agentd.socket, 'POST', '/shell/exec', {headers: {authorization: `Bearer ${agent}`, 'content-type': 'application/json'}, body: json({command: 'ps aux | grep nginx'})})
    expect(res.body.error).toMatchObject({code: 'VALIDATION_FAILED', hint: expect.stringContaining('shell: true')})
  })

  it('rejects GET with 405', async () => {
    const res = await rawRequest(agentd.socket, 'GET', '/shell/exec', {headers: {authorization: `Bearer ${operator}`}})
    expect(res.body?.error?.code).toBe('METHOD_NOT_ALLOWED')
  })
})

describe('POST /shell/exec', () => {
  it.skipIf(bwrap.skip)('runs the agent\'s sandbox command, which cannot write the host or read osmoda tokens', async () => {
    // Given the agent's client
    const client = env.client('agentd', agentdApi, 'agent', {'x-osmoda-agent-id': 'reader'})
    // When it reads, writes and tries the token file in sandbox mode
    const read = await client.shellExec({argv: ['cat', join(hostDir, 'victim')]})
    const write = await client.shellExec({command: `sh -c 'echo pwned > ${M()}'`})
    const token = await client.shellExec({argv: ['cat', join(env.paths.tokensDir, 'operator')]})
    // Then the read works, the write is refused with the hint, the token is not there; nothing on the host changed
    expect(read).toMatchObject({mode: 'sandbox', exit_code: 0, stdout: 'original'})
    expect(write).toMatchObject({exit_code: 2, hint: expect.stringContaining('mode: "host"')})
    expect(token.exit_code).not.toBe(0)
    expect(token.stdout).toBe('')
    expect(() => rmSync(M())).toThrow(/ENOENT/)
    client.close()
  })

  it('runs an operator host command and ledgers exec.completed', async () => {
    // When the operator runs a command on the host
    const client = env.client('agentd', agentdApi, 'operator', {'x-osmoda-operator': 'alice'})
    const result = await client.shellExec({argv: ['touch', M()], mode: 'host', cwd: hostDir})
    // Then it ran on the host and is ledgered with the operator as actor
    expect(result).toMatchObject({mode: 'host', argv: ['touch', M()], exit_code: 0, timed_out: false})
    rmSync(M())
    const page = await client.eventsLog({type: 'exec.completed', limit: 1})
    expect(page.events[0]).toMatchObject({actor: 'operator:alice', payload: {argv: ['touch', M()], cwd: hostDir, exit_code: 0, timed_out: false, approval_id: null}})
    client.close()
  })

  it.skipIf(bwrap.skip)('limits agent calls per agent id (exec.rateLimit), with retry_after_secs, but never the operator', async () => {
    // Given an agent id that has not called yet and a limit of RATE_CALLS an hour
    const client = env.client('agentd', agentdApi, 'agent', {'x-osmoda-agent-id': 'busy'})
    for (let i = 0; i < RATE_CALLS; i++) await client.shellExec({argv: ['true']})
    // When it calls once more / Then 429 RATE_LIMITED with retry_after_secs
    const res = await rawRequest(agentd.socket, 'POST', '/shell/exec', {
      headers: {authorization: `Bearer ${agent}`, 'x-osmoda-agent-id': 'busy', 'content-type': 'application/json'},
      body: json({argv: ['true']}),
    })
    expect(res.status).toBe(429)
    expect(res.body.error).toMatchObject({code: 'RATE_LIMITED', details: {retry_after_secs: expect.any(Number)}})
    expect(res.body.error.details.retry_after_secs).toBeGreaterThan(3500)
    // And another agent id and the operator still run
    const other = env.client('agentd', agentdApi, 'agent', {'x-osmoda-agent-id': 'other'})
    expect((await other.shellExec({argv: ['true']})).exit_code).toBe(0)
    const op = env.client('agentd', agentdApi)
    for (let i = 0; i < RATE_CALLS + 1; i++) expect((await op.shellExec({argv: ['true']})).exit_code).toBe(0)
    for (const c of [client, other, op]) c.close()
  })
})

describe('host mode through the real approval gate', () => {
  it('runs an agent host command only after the operator approves that exact command, once', async () => {
    // Given an agent (its own id, so the rate limit of the other tests does not apply)
    const client = env.client('agentd', agentdApi, 'agent', {'x-osmoda-agent-id': 'approver'})
    const operatorClient = env.client('agentd', agentdApi)
    const marker = join(hostDir, 'approved-marker')
    const command = `touch ${marker}`
    // When it asks to run a host command, it gets 412 and nothing runs
    const first = await client.shellExec({command, mode: 'host'}).catch((e: {code: string; details: {approval_id: string}}) => e)
    expect(first).toMatchObject({code: 'APPROVAL_REQUIRED'})
    const id = (first as {details: {approval_id: string}}).details.approval_id
    expect(existsSync(marker)).toBe(false)
    // And approval_request for the same command (shorthand) finds that very approval: same digest, defaults included
    expect(await client.approvalRequest({reason: 'create the marker', command})).toMatchObject({id, status: 'pending'})
    // When the operator approves it
    await operatorClient.approvalApprove({id, note: 'ok'})
    // Then a different command with the approval is refused and changes nothing
    await expect(client.shellExec({command: `touch ${marker}-other`, mode: 'host', approval_id: id})).rejects.toMatchObject({code: 'APPROVAL_INVALID', details: {reason: 'digest_mismatch'}})
    expect(existsSync(`${marker}-other`)).toBe(false)
    // And the approved command runs once, ledgered with its approval
    const ran = await client.shellExec({command, mode: 'host', approval_id: id})
    expect(ran).toMatchObject({mode: 'host', exit_code: 0})
    expect(existsSync(marker)).toBe(true)
    const {events} = await operatorClient.eventsLog({type: 'exec.completed', limit: 1})
    expect(events[0]?.payload).toMatchObject({argv: ['touch', marker], approval_id: id})
    // And a second use is refused
    rmSync(marker)
    await expect(client.shellExec({command, mode: 'host', approval_id: id})).rejects.toMatchObject({code: 'APPROVAL_INVALID', details: {reason: 'consumed'}})
    expect(existsSync(marker)).toBe(false)
    client.close()
    operatorClient.close()
  })
})
