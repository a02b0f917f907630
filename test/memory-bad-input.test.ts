import {readdirSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {rawRequest} from './helpers/raw-request.js'
import {badInputTable, ledgerSize, socketSender, type BadInputCase} from './helpers/bad-input.js'
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

const json = (value: unknown) => JSON.stringify(value)
const store = {summary: 'ok summary', category: 'general'}
const ingest = {summary: 'ok', category: 'deploy', source: 'watch'}
const recall = {query: 'nginx'}

// Every memory route's bad input (ARCHITECTURE §8): the envelope with a stable code, nothing written.
const cases: BadInputCase[] = [
  // POST /memory/store
  {name: 'store malformed JSON', method: 'POST', path: '/memory/store', body: '{"summary": ', wantStatus: 400, wantCode: 'INVALID_JSON'},
  {name: 'store missing summary', method: 'POST', path: '/memory/store', body: json({category: 'general'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'store empty summary', method: 'POST', path: '/memory/store', body: json({summary: ''}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'store blank summary', method: 'POST', path: '/memory/store', body: json({summary: '   \n '}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'store summary wrong type', method: 'POST', path: '/memory/store', body: json({summary: 42}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'store summary too long', method: 'POST', path: '/memory/store', body: json({summary: 'x'.repeat(2001)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'store detail too long', method: 'POST', path: '/memory/store', body: json({...store, detail: 'x'.repeat(64_001)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'store unknown field', method: 'POST', path: '/memory/store', body: json({...store, agent_id: 'root'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'store category with a dot', method: 'POST', path: '/memory/store', body: json({...store, category: '..'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'store category with a slash', method: 'POST', path: '/memory/store', body: json({...store, category: 'a/../../etc'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'store uppercase category', method: 'POST', path: '/memory/store', body: json({...store, category: 'Incident'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'store too many tags', method: 'POST', path: '/memory/store', body: json({...store, tags: Array.from({length: 33}, (_, i) => `t${i}`)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'store tag too long', method: 'POST', path: '/memory/store', body: json({...store, tags: ['x'.repeat(65)]}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'store tag with a newline', method: 'POST', path: '/memory/store', body: json({...store, tags: ['a\nb']}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'store tags not a list', method: 'POST', path: '/memory/store', body: json({...store, tags: 'nginx'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'store oversized body', method: 'POST', path: '/memory/store', body: json({...store, detail: 'x'.repeat(1024 * 1024 + 10)}), wantStatus: 413, wantCode: 'PAYLOAD_TOO_LARGE'},
  {name: 'store without token', method: 'POST', path: '/memory/store', role: 'none', body: json(store), wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
  // POST /memory/ingest
  {name: 'ingest by the agent', method: 'POST', path: '/memory/ingest', role: 'agent', body: json(ingest), wantStatus: 403, wantCode: 'FORBIDDEN'},
  {name: 'ingest malformed JSON', method: 'POST', path: '/memory/ingest', body: '[', wantStatus: 400, wantCode: 'INVALID_JSON'},
  {name: 'ingest missing source', method: 'POST', path: '/memory/ingest', body: json({summary: 'x', category: 'a'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'ingest missing category', method: 'POST', path: '/memory/ingest', body: json({summary: 'x', source: 'watch'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'ingest category with a dot', method: 'POST', path: '/memory/ingest', body: json({...ingest, category: 'a.b'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'ingest source too long', method: 'POST', path: '/memory/ingest', body: json({...ingest, source: 's'.repeat(65)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'ingest metadata over 16 KiB', method: 'POST', path: '/memory/ingest', body: json({...ingest, metadata: {blob: 'x'.repeat(17_000)}}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'ingest metadata not an object', method: 'POST', path: '/memory/ingest', body: json({...ingest, metadata: [1]}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'ingest unknown field', method: 'POST', path: '/memory/ingest', body: json({...ingest, ts: '2020-01-01T00:00:00Z'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  // POST /memory/recall
  {name: 'recall malformed JSON', method: 'POST', path: '/memory/recall', body: '{query', wantStatus: 400, wantCode: 'INVALID_JSON'},
  {name: 'recall missing query', method: 'POST', path: '/memory/recall', body: json({}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'recall query wrong type', method: 'POST', path: '/memory/recall', body: json({query: ['a']}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'recall query too long', method: 'POST', path: '/memory/recall', body: json({query: 'a'.repeat(513)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'recall query without terms', method: 'POST', path: '/memory/recall', body: json({query: '*** "" ^^ ()'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'recall FTS syntax is not an error: NEAR(', method: 'POST', path: '/memory/recall', body: json({query: 'NEAR( "a'}), wantStatus: 200, wantCode: ''},
  {name: 'recall FTS syntax is not an error: column filter', method: 'POST', path: '/memory/recall', body: json({query: 'summary:x OR AND NOT -y {a b} ^z'}), wantStatus: 200, wantCode: ''},
  {name: 'recall max_results 0', method: 'POST', path: '/memory/recall', body: json({...recall, max_results: 0}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'recall max_results negative', method: 'POST', path: '/memory/recall', body: json({...recall, max_results: -3}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'recall max_results fractional', method: 'POST', path: '/memory/recall', body: json({...recall, max_results: 2.5}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'recall max_results absurd', method: 'POST', path: '/memory/recall', body: json({...recall, max_results: 1e300}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'recall max_results huge is clamped', method: 'POST', path: '/memory/recall', body: json({...recall, max_results: 1_000_000}), wantStatus: 200, wantCode: ''},
  {name: 'recall bad timeframe', method: 'POST', path: '/memory/recall', body: json({...recall, timeframe: 'yesterday'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'recall zero duration', method: 'POST', path: '/memory/recall', body: json({...recall, timeframe: '0d'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'recall impossible date', method: 'POST', path: '/memory/recall', body: json({...recall, timeframe: '2026-02-30'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'recall category with a slash', method: 'POST', path: '/memory/recall', body: json({...recall, category: '../x'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'recall unknown field', method: 'POST', path: '/memory/recall', body: json({...recall, sql: 'DROP TABLE memories'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  // GET /memory/health and POST /memory/reindex
  {name: 'health unknown param', method: 'GET', path: '/memory/health?verbose=1', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'health without token', method: 'GET', path: '/memory/health', role: 'none', wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
  {name: 'reindex by the agent', method: 'POST', path: '/memory/reindex', role: 'agent', wantStatus: 403, wantCode: 'FORBIDDEN'},
  {name: 'reindex with a body field', method: 'POST', path: '/memory/reindex', body: json({full: true}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'reindex wrong method', method: 'GET', path: '/memory/reindex', wantStatus: 405, wantCode: 'METHOD_NOT_ALLOWED'},
]

function memoryFiles(dir: string): string[] {
  try {
    return readdirSync(dir, {recursive: true}).map(String).sort()
  } catch {
    return []
  }
}

badInputTable('agentd memory bad input: the envelope, nothing written', cases, {
  send: socketSender({socket: () => agentd.socket, token: (role) => (role === 'agent' ? agent : operator)}),
  state: () => ({ledger: ledgerSize(env.paths.ledgerDb), files: memoryFiles(join(env.paths.stateDir, 'memory'))}),
  check: (res, c) => {
    if (c.wantStatus < 400) expect(res.body).toMatchObject({memories: expect.any(Array), truncated: false})
  },
})

describe('agentd memory bad input', () => {
  it('covers every memory route of the contract', () => {
    const covered = new Set(cases.map((c) => `${c.method} ${c.path.split('?')[0]}`))
    const untested = Object.values(agentdApi)
      .filter((r) => r.path.startsWith('/memory/'))
      .map((r) => `${r.method} ${r.path}`)
      .filter((key) => !covered.has(key))
    expect(untested).toEqual([])
  })

  it('gives a hint when the query has no terms', async () => {
    const res = await rawRequest(agentd.socket, 'POST', '/memory/recall', {headers: {authorization: `Bearer ${agent}`, 'content-type': 'application/json'}, body: json({query: '!!!'})})
    expect(res.body.error).toMatchObject({code: 'VALIDATION_FAILED', hint: expect.stringContaining('"quoted phrases"')})
  })

  // The 409 of a reindex while one runs is checked in memory/service.test.ts: over HTTP a rebuild of
  // this tiny store finishes before a second request can arrive.
  it('keeps serving after every bad request', async () => {
    const client = env.client('agentd', agentdApi)
    expect((await client.memoryHealth()).status).toBe('ok')
    expect(await client.memoryStore({summary: 'still works'})).toMatchObject({id: expect.stringMatching(/^mem_/)})
    client.close()
  })
})
