import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {rawRequest} from './helpers/raw-request.js'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'

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

const HASH = 'a'.repeat(64)
const goodCall = {tool: 'system_health', toolset: 'agentd', args_sha256: HASH, outcome: 'ok', duration_ms: 1}

interface Case {
  name: string
  method: string
  path: string
  role?: 'operator' | 'agent' | 'none' | 'bogus'
  headers?: Record<string, string>
  body?: string | Buffer
  wantStatus: number
  wantCode: string
}

const json = (value: unknown) => JSON.stringify(value)

// Route tables of bad input (ARCHITECTURE §8): every row must give the envelope with a stable code.
const cases: Case[] = [
  // Transport and body
  {name: 'malformed JSON', method: 'POST', path: '/tool-calls', body: '{"tool": ', wantStatus: 400, wantCode: 'INVALID_JSON'},
  {name: 'JSON array body', method: 'POST', path: '/tool-calls', body: '[1,2]', wantStatus: 400, wantCode: 'INVALID_JSON'},
  {name: 'JSON string body', method: 'POST', path: '/system/query', body: '"processes"', wantStatus: 400, wantCode: 'INVALID_JSON'},
  {name: 'missing body where fields are required', method: 'POST', path: '/tool-calls', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'wrong content type', method: 'POST', path: '/tool-calls', headers: {'content-type': 'text/plain'}, body: json(goodCall), wantStatus: 415, wantCode: 'UNSUPPORTED_MEDIA_TYPE'},
  {name: 'oversized body', method: 'POST', path: '/tool-calls', body: json({...goodCall, tool: 'x'.repeat(1024 * 1024 + 10)}), wantStatus: 413, wantCode: 'PAYLOAD_TOO_LARGE'},
  // Schemas: wrong types, unknown fields, ranges
  {name: 'tool-calls wrong type', method: 'POST', path: '/tool-calls', body: json({...goodCall, duration_ms: 'fast'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'tool-calls unknown field', method: 'POST', path: '/tool-calls', body: json({...goodCall, extra: 1}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'tool-calls bad outcome', method: 'POST', path: '/tool-calls', body: json({...goodCall, outcome: 'maybe'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'tool-calls bad hash', method: 'POST', path: '/tool-calls', body: json({...goodCall, args_sha256: 'ABC'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'tool-calls negative duration', method: 'POST', path: '/tool-calls', body: json({...goodCall, duration_ms: -1}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'tool-calls huge duration', method: 'POST', path: '/tool-calls', body: json({...goodCall, duration_ms: 1e12}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'system query unknown query', method: 'POST', path: '/system/query', body: json({query: 'passwords'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'system query limit 0', method: 'POST', path: '/system/query', body: json({query: 'processes', args: {limit: 0}}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'system query negative limit', method: 'POST', path: '/system/query', body: json({query: 'processes', args: {limit: -5}}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'system query unknown arg', method: 'POST', path: '/system/query', body: json({query: 'hostname', args: {x: 1}}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'system query unknown field', method: 'POST', path: '/system/query', body: json({query: 'hostname', sudo: true}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'events limit 0', method: 'GET', path: '/events/log?limit=0', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'events negative limit', method: 'GET', path: '/events/log?limit=-1', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'events fractional limit', method: 'GET', path: '/events/log?limit=1.5', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'events non-numeric limit', method: 'GET', path: '/events/log?limit=lots', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'events before 0', method: 'GET', path: '/events/log?before=0', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'events huge after', method: 'GET', path: '/events/log?after=1e300', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'events bad type filter', method: 'GET', path: '/events/log?type=DROP%20TABLE', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'events unknown param', method: 'GET', path: '/events/log?sql=1', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'events bad order', method: 'GET', path: '/events/log?order=random', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'events bad follow flag', method: 'GET', path: '/events/log?follow=maybe', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'checkpoint size 0', method: 'GET', path: '/ledger/checkpoint?size=0', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'checkpoint unknown size', method: 'GET', path: '/ledger/checkpoint?size=999999', wantStatus: 404, wantCode: 'NOT_FOUND'},
  {name: 'checkpoints limit 0', method: 'GET', path: '/ledger/checkpoints?limit=0', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'checkpoints bad cursor', method: 'GET', path: '/ledger/checkpoints?cursor=abc', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'inclusion missing seq', method: 'GET', path: '/ledger/proof/inclusion?size=1', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'inclusion seq beyond size', method: 'GET', path: '/ledger/proof/inclusion?seq=5&size=2', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'inclusion size beyond head', method: 'GET', path: '/ledger/proof/inclusion?seq=1&size=99999999', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'consistency old > new', method: 'GET', path: '/ledger/proof/consistency?old=3&new=1', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'verify to before from', method: 'POST', path: '/ledger/verify', body: json({from: 5, to: 2}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'verify from beyond head', method: 'POST', path: '/ledger/verify', body: json({from: 99999999}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'reload with a body field', method: 'POST', path: '/reload', body: json({force: true}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  // Routing
  {name: 'unknown route', method: 'GET', path: '/etc/passwd', wantStatus: 404, wantCode: 'NOT_FOUND'},
  {name: 'wrong method', method: 'DELETE', path: '/health', wantStatus: 405, wantCode: 'METHOD_NOT_ALLOWED'},
  // Tokens and roles
  {name: 'missing token', method: 'GET', path: '/health', role: 'none', wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
  {name: 'unknown token', method: 'GET', path: '/health', role: 'bogus', wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
  {name: 'missing token beats bad JSON', method: 'POST', path: '/tool-calls', role: 'none', body: '{', wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
  {name: 'agent on POST /reload', method: 'POST', path: '/reload', role: 'agent', wantStatus: 403, wantCode: 'FORBIDDEN'},
  {name: 'agent on POST /ledger/verify', method: 'POST', path: '/ledger/verify', role: 'agent', body: json({}), wantStatus: 403, wantCode: 'FORBIDDEN'},
  {name: 'agent on POST /ledger/checkpoint', method: 'POST', path: '/ledger/checkpoint', role: 'agent', wantStatus: 403, wantCode: 'FORBIDDEN'},
  {name: 'bad agent id header', method: 'GET', path: '/health', role: 'agent', headers: {'x-osmoda-agent-id': 'Robert"); DROP'}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'bad operator header', method: 'GET', path: '/health', headers: {'x-osmoda-operator': 'root root'}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'oversized request id', method: 'GET', path: '/health', headers: {'x-osmoda-request-id': 'r'.repeat(65)}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
]

describe('agentd bad input', () => {
  it('covers every route of the contract', () => {
    // Given the route table / When compared with the paths the cases hit / Then none is left out
    const covered = new Set(cases.map((c) => `${c.method} ${c.path.split('?')[0]}`))
    const untested = Object.values(agentdApi)
      .map((r) => `${r.method} ${r.path}`)
      // Memory routes have their own table in memory-bad-input.test.ts.
      .filter((key) => !covered.has(key) && !key.includes(' /memory/') && !['GET /health', 'GET /system/discover', 'GET /ledger/status'].includes(key))
    expect(untested).toEqual([])
  })

  it.each(cases)('$name → $wantStatus $wantCode', async (c) => {
    // Given a ledger of known size
    const ledger = env.client('agentd', agentdApi)
    const before = (await ledger.ledgerStatus()).size
    const auth: Record<string, string> = c.role === 'none' ? {} : {authorization: `Bearer ${c.role === 'bogus' ? 'osm_op_' + 'x'.repeat(43) : c.role === 'agent' ? agent : operator}`}
    const headers: Record<string, string> = {...auth, ...(c.body !== undefined ? {'content-type': 'application/json'} : {}), ...c.headers}
    // When the bad request is sent
    const res = await rawRequest(agentd.socket, c.method, c.path, {headers, body: c.body})
    // Then it gets the envelope with the stable code, no stack trace, and nothing was written
    expect(res.status).toBe(c.wantStatus)
    expect(res.body?.error?.code).toBe(c.wantCode)
    expect(typeof res.body.error.message).toBe('string')
    expect(res.text).not.toMatch(/\n\s+at /)
    if (c.wantCode === 'VALIDATION_FAILED') expect(Array.isArray(res.body.error.details)).toBe(true)
    expect((await ledger.ledgerStatus()).size).toBe(before)
    ledger.close()
  })

  it('keeps serving after every bad request', async () => {
    const health = await env.client('agentd', agentdApi).health()
    expect(health.status).toBe('ok')
  })

  it('clamps a huge limit instead of failing', async () => {
    const res = await rawRequest(agentd.socket, 'GET', '/events/log?limit=99999999', {headers: {authorization: `Bearer ${operator}`}})
    expect(res.status).toBe(200)
    expect(res.body.events.length).toBeLessThanOrEqual(1000)
  })
})
