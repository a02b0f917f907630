import {once} from 'node:events'
import {createServer, type AddressInfo, type Server} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {systemdAvailable} from '../src/daemons/agentd/system/discover.js'
import {OsmodaError} from '../src/lib/errors.js'
import {rawRequest} from './helpers/raw-request.js'
import {badInputTable, ledgerSize, socketSender, type BadInputCase} from './helpers/bad-input.js'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'

// These tests describe a host like CI's: systemd is not PID 1 and there is no Nix system profile.
const systemd = await systemdAvailable()
const hostNote = systemd ? ' (skipped: systemd is PID 1 here)' : ''

let env: TestEnv
let agentd: DaemonProcess
let operator: string
let agent: string

beforeAll(async () => {
  env = await testEnv()
  agentd = await env.start('agentd')
  operator = env.token('operator')
  agent = env.token('agent')
})

afterAll(async () => {
  await agentd?.stopClean()
  await env?.cleanup()
})

async function caught(promise: Promise<unknown>): Promise<OsmodaError> {
  try {
    await promise
  } catch (error) {
    return error as OsmodaError
  }
  throw new Error('expected a rejection')
}

const json = (value: unknown) => JSON.stringify(value)

// Bad input of every route of this area → the envelope with a stable code, nothing ledgered.
const cases: BadInputCase[] = [
  // GET /service/status
  {name: 'service unit with a leading dash', method: 'GET', path: '/service/status?unit=-H', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'service unit with a slash', method: 'GET', path: '/service/status?unit=..%2Fetc', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'service unit with a space', method: 'GET', path: '/service/status?unit=a%20b', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'service unit too long', method: 'GET', path: `/service/status?unit=${'a'.repeat(257)}`, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'service limit 0', method: 'GET', path: '/service/status?limit=0', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'service limit negative', method: 'GET', path: '/service/status?limit=-1', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'service limit not a number', method: 'GET', path: '/service/status?limit=lots', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'service limit fractional', method: 'GET', path: '/service/status?limit=1.5', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'service unknown param', method: 'GET', path: '/service/status?state=failed', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'service without token', method: 'GET', path: '/service/status', role: 'none', wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
  {name: 'service wrong method', method: 'POST', path: '/service/status', body: '{}', wantStatus: 405, wantCode: 'METHOD_NOT_ALLOWED'},
  // GET /journal/logs
  {name: 'journal lines 0', method: 'GET', path: '/journal/logs?lines=0', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'journal lines absurd', method: 'GET', path: '/journal/logs?lines=1e300', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'journal bad priority', method: 'GET', path: '/journal/logs?priority=loud', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'journal numeric priority', method: 'GET', path: '/journal/logs?priority=3', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'journal bad since', method: 'GET', path: '/journal/logs?since=yesterday', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'journal zero duration', method: 'GET', path: '/journal/logs?since=0h', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'journal impossible date', method: 'GET', path: '/journal/logs?until=2026-02-30T00:00:00Z', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'journal grep too long', method: 'GET', path: `/journal/logs?grep=${'a'.repeat(257)}`, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'journal empty grep', method: 'GET', path: '/journal/logs?grep=', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'journal unit option', method: 'GET', path: '/journal/logs?unit=--output%3Dcat', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'journal unknown param', method: 'GET', path: '/journal/logs?follow=1', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  // GET /network/info
  {name: 'network bad detail', method: 'GET', path: '/network/info?detail=firewall', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'network unknown param', method: 'GET', path: '/network/info?iface=lo', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'network without token', method: 'GET', path: '/network/info', role: 'none', wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
  // /safety/*
  {name: 'safety status unknown param', method: 'GET', path: '/safety/status?verbose=1', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'rollback malformed JSON', method: 'POST', path: '/safety/rollback', body: '{', wantStatus: 400, wantCode: 'INVALID_JSON'},
  {name: 'rollback reason too long', method: 'POST', path: '/safety/rollback', body: json({reason: 'x'.repeat(501)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'rollback reason wrong type', method: 'POST', path: '/safety/rollback', body: json({reason: 1}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'rollback explicit generation is not an input', method: 'POST', path: '/safety/rollback', body: json({generation: 3}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'rollback bad approval id', method: 'POST', path: '/safety/rollback', role: 'agent', body: json({approval_id: 'apr_x'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'rollback without token', method: 'POST', path: '/safety/rollback', role: 'none', body: '{}', wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
  {name: 'panic rollback not a boolean', method: 'POST', path: '/safety/panic', body: json({rollback: 'yes'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'panic unknown field', method: 'POST', path: '/safety/panic', body: json({units: ['osmoda-agentd.service']}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'panic oversized body', method: 'POST', path: '/safety/panic', body: json({reason: 'x'.repeat(1024 * 1024 + 10)}), wantStatus: 413, wantCode: 'PAYLOAD_TOO_LARGE'},
  {name: 'restart with a body field', method: 'POST', path: '/safety/restart', body: json({delay_secs: 0}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'restart wrong method', method: 'GET', path: '/safety/restart', wantStatus: 405, wantCode: 'METHOD_NOT_ALLOWED'},
  {name: 'restart without token', method: 'POST', path: '/safety/restart', role: 'none', body: '{}', wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
]

describe('agentd services, network and safety: bad input', () => {
  it('covers every route of the area', () => {
    const covered = new Set(cases.map((c) => c.path.split('?')[0]))
    const untested = Object.values(agentdApi)
      .filter((r) => /^\/(service|journal|network|safety)\//.test(r.path))
      .map((r) => r.path)
      .filter((path) => !covered.has(path))
    expect(untested).toEqual([])
  })
})

badInputTable('agentd services, network and safety: bad input table', cases, {
  send: socketSender({socket: () => agentd.socket, token: (role) => (role === 'agent' ? agent : operator)}),
  state: () => ({ledger: ledgerSize(env.paths.ledgerDb)}),
})

describe('network_info against this host', () => {
  let server: Server
  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()))
  })

  it('returns loopback and a port this test listens on', async () => {
    // Given a TCP listener of this test process
    server = createServer().listen(0, '127.0.0.1')
    await once(server, 'listening')
    const port = (server.address() as AddressInfo).port
    const client = env.client('agentd', agentdApi, 'agent')
    // When the agent asks for everything, then for one section
    const info = await client.networkInfo()
    const dnsOnly = await client.networkInfo({detail: 'dns'})
    // Then loopback is there with its address, the port is ours, and a section request returns only it
    expect(info.interfaces?.find((i) => i.name === 'lo')).toMatchObject({addresses: expect.arrayContaining(['127.0.0.1/8'])})
    expect(info.ports).toContainEqual({proto: 'tcp', address: '127.0.0.1', port, pid: process.pid, process: expect.any(String)})
    expect(info.routes).toEqual(expect.any(Array))
    expect(Object.keys(dnsOnly)).toEqual(['dns'])
    client.close()
  })
})

describe(`services and journal without systemd${hostNote}`, () => {
  it.skipIf(systemd)('service_status answers 503 SYSTEMD_UNAVAILABLE with a hint', async () => {
    const client = env.client('agentd', agentdApi, 'agent')
    for (const input of [{unit: 'nginx'}, {}]) {
      const error = await caught(client.serviceStatus(input))
      expect(error.code).toBe('SYSTEMD_UNAVAILABLE')
      expect(error.hint).toMatch(/system_query/)
    }
    client.close()
  })

  it.skipIf(systemd)('journal_logs answers 503 SYSTEMD_UNAVAILABLE with a hint', async () => {
    const res = await rawRequest(agentd.socket, 'GET', '/journal/logs?unit=nginx&lines=5', {headers: {authorization: `Bearer ${agent}`}})
    expect(res.status).toBe(503)
    expect(res.body.error).toMatchObject({code: 'SYSTEMD_UNAVAILABLE', hint: expect.stringContaining('/var/log')})
  })

  it.skipIf(systemd)('panic and restart answer 503 SYSTEMD_UNAVAILABLE and record nothing', async () => {
    const client = env.client('agentd', agentdApi, 'agent')
    const before = (await client.ledgerStatus()).size
    expect((await caught(client.safetyPanic({rollback: false}))).code).toBe('SYSTEMD_UNAVAILABLE')
    expect((await caught(client.safetyRestart())).code).toBe('SYSTEMD_UNAVAILABLE')
    expect((await client.ledgerStatus()).size).toBe(before)
    client.close()
  })
})

describe('safety', () => {
  it('status through agentd has services, ledger and approvals', async () => {
    const result = await env.cli(['safety', 'status', '--json'])
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.json.result).toMatchObject({source: 'agentd', agentd: 'reachable', pending_approvals: 0, ledger: {size: expect.any(Number)}})
    expect(result.json.result.services['osmoda-agentd']).toBe('active')
    expect(result.json.warnings).toEqual([])
  })

  it('rollback without a Nix system profile is 503 NIX_UNAVAILABLE for the operator CLI and the agent', async () => {
    // When the operator runs it from the CLI
    const result = await env.cli(['safety', 'rollback', '--reason', 'test', '--json'])
    // Then it fails with the stable code and exit 1, and the agent gets the same before any gate
    expect(result.exitCode).toBe(1)
    expect(result.json.error).toMatchObject({code: 'NIX_UNAVAILABLE', hint: expect.any(String)})
    const client = env.client('agentd', agentdApi, 'agent')
    const error = await caught(client.safetyRollback({}))
    expect(error.code).toBe('NIX_UNAVAILABLE')
    client.close()
  })

  it.skipIf(systemd)('panic from the CLI is not gated: it reaches the systemd check', async () => {
    const result = await env.cli(['safety', 'panic', '--no-rollback', '--json'])
    expect(result.exitCode).toBe(1)
    expect(result.json.error.code).toBe('SYSTEMD_UNAVAILABLE')
  })
})

describe('safety status with agentd down', () => {
  it('falls back to local facts through the CLI and says agentd is unreachable', async () => {
    // Given an installation whose agentd is not running
    const down = await testEnv()
    try {
      // When the operator asks for the safety status
      const result = await down.cli(['safety', 'status', '--json'])
      // Then it succeeds with facts read locally, and says so
      expect(result.exitCode, result.stderr).toBe(0)
      expect(result.json.result).toMatchObject({source: 'local', agentd: 'unreachable', ledger: null, pending_approvals: null, health: {status: 'unknown'}})
      expect(result.json.result.health.memory_total).toBeGreaterThan(0)
      expect(result.json.result.services['osmoda-agentd']).toBe('inactive')
      expect(Array.isArray(result.json.result.listening_ports)).toBe(true)
      expect(result.json.warnings.join(' ')).toMatch(/agentd is unreachable/)
      // And for humans the table and the warning are printed
      const human = await down.cli(['safety', 'status'])
      expect(human.exitCode).toBe(0)
      expect(human.stdout).toMatch(/agentd\s+unreachable \(local facts\)/)
      expect(human.stderr).toMatch(/Warning: agentd is unreachable/)
    } finally {
      await down.cleanup()
    }
  })

  it('falls back to local facts when no token can be read', async () => {
    // Given a host where `osmoda init` never ran (no tokens)
    const bare = await testEnv({init: false})
    try {
      const result = await bare.cli(['safety', 'status', '--json'])
      expect(result.exitCode, result.stderr).toBe(0)
      expect(result.json.result).toMatchObject({source: 'local', agentd: 'unreachable'})
      expect(result.json.warnings.join(' ')).toMatch(/no readable osmoda token/)
    } finally {
      await bare.cleanup()
    }
  })
})
