import {join} from 'node:path'
import {existsSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {defaultBackupDir} from '../src/lib/backup/manifest.js'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {openDatabase} from '../src/lib/db/open.js'
import {rawRequest} from './helpers/raw-request.js'
import {badInputTable, ledgerSize, socketSender, type BadInputCase} from './helpers/bad-input.js'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'

let env: TestEnv
let agentd: DaemonProcess
let operator: string
let agent: string
// Ids of an open and a resolved incident, substituted for {open} and {resolved} in case paths.
const ids: Record<string, string> = {}

beforeAll(async () => {
  env = await testEnv()
  agentd = await env.start('agentd')
  operator = env.token('operator')
  agent = env.token('agent')
  const client = env.client('agentd', agentdApi)
  ids.open = (await client.incidentCreate({name: 'open one'})).id
  ids.resolved = (await client.incidentCreate({name: 'resolved one'})).id
  await client.incidentStep({id: ids.resolved, action: 'fixed', result: '', resolve: true})
  client.close()
})

/** Rows of agentd.db's incident tables, read straight from the file. */
function incidentRows(): number {
  const db = openDatabase(join(env.paths.daemonStateDir('agentd'), 'agentd.db'), {readonly: true})
  try {
    return db.prepare('SELECT (SELECT count(*) FROM incidents) + (SELECT count(*) FROM incident_steps)').pluck().get() as number
  } finally {
    db.close()
  }
}

afterAll(async () => {
  await agentd?.stopClean()
  await env?.cleanup()
})

// No case may leave an archive behind (the directory is created by the first real backup).
const backupDir = () => defaultBackupDir(env.paths)

const HASH = 'a'.repeat(64)
const goodCall = {tool: 'system_health', toolset: 'agentd', args_sha256: HASH, outcome: 'ok', duration_ms: 1}

const json = (value: unknown) => JSON.stringify(value)
const STEP = 'POST /incident/{id}/step'
const goodStep = {action: 'checked', result: 'ok'}

// Route tables of bad input (ARCHITECTURE §8): every row must give the envelope with a stable code.
const cases: BadInputCase[] = [
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
  {name: 'cosignature empty body', method: 'POST', path: '/ledger/cosignatures', body: {}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'cosignature size 0 and bad root', method: 'POST', path: '/ledger/cosignatures', body: {size: 0, root_hash: 'nope', witness: 'w', witness_pubkey: 'a'.repeat(64), cosignature: 'c', ts: '2026-11-26T00:00:00Z'}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'cosignature unknown field', method: 'POST', path: '/ledger/cosignatures', body: {size: 1, root_hash: `${'A'.repeat(43)}=`, witness: 'w', witness_pubkey: 'a'.repeat(64), cosignature: 'c', ts: '2026-11-26T00:00:00Z', extra: 1}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'inclusion missing seq', method: 'GET', path: '/ledger/proof/inclusion?size=1', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'inclusion seq beyond size', method: 'GET', path: '/ledger/proof/inclusion?seq=5&size=2', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'inclusion size beyond head', method: 'GET', path: '/ledger/proof/inclusion?seq=1&size=99999999', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'consistency old > new', method: 'GET', path: '/ledger/proof/consistency?old=3&new=1', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'verify to before from', method: 'POST', path: '/ledger/verify', body: json({from: 5, to: 2}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'verify from beyond head', method: 'POST', path: '/ledger/verify', body: json({from: 99999999}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'backup create malformed JSON', method: 'POST', path: '/backup/create', body: '{"note": ', wantStatus: 400, wantCode: 'INVALID_JSON'},
  {name: 'backup create note not a string', method: 'POST', path: '/backup/create', body: json({note: 42}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'backup create oversized note', method: 'POST', path: '/backup/create', body: json({note: 'n'.repeat(201)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'backup create unknown field', method: 'POST', path: '/backup/create', body: json({note: 'x', include: '/etc/shadow'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'backup create path-like field', method: 'POST', path: '/backup/create', body: json({dir: '../../tmp'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'backup create without token', method: 'POST', path: '/backup/create', role: 'none', body: json({}), wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
  {name: 'backup list limit 0', method: 'GET', path: '/backup/list?limit=0', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'backup list negative limit', method: 'GET', path: '/backup/list?limit=-3', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'backup list fractional limit', method: 'GET', path: '/backup/list?limit=2.5', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'backup list unknown param', method: 'GET', path: '/backup/list?dir=/etc', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'backup list without token', method: 'GET', path: '/backup/list', role: 'none', wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
  {name: 'reload with a body field', method: 'POST', path: '/reload', body: json({force: true}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  // Incidents
  {name: 'incident create malformed JSON', method: 'POST', path: '/incident/create', body: '{"name": "x"', wantStatus: 400, wantCode: 'INVALID_JSON'},
  {name: 'incident create missing name', method: 'POST', path: '/incident/create', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incident create name of wrong type', method: 'POST', path: '/incident/create', body: json({name: 42}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incident create empty name', method: 'POST', path: '/incident/create', body: json({name: ''}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incident create name over 200', method: 'POST', path: '/incident/create', body: json({name: 'n'.repeat(201)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incident create summary over 2000', method: 'POST', path: '/incident/create', body: json({name: 'x', summary: 's'.repeat(2001)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incident create bad severity', method: 'POST', path: '/incident/create', body: json({name: 'x', severity: 'apocalyptic'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incident create unknown field', method: 'POST', path: '/incident/create', body: json({name: 'x', status: 'resolved'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incident create id smuggled in', method: 'POST', path: '/incident/create', body: json({name: 'x', id: 'inc_01ARYZ6S41TSV4RRFFQ69G5FAV'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incident create oversized body', method: 'POST', path: '/incident/create', body: json({name: 'x', summary: 's'.repeat(1024 * 1024 + 10)}), wantStatus: 413, wantCode: 'PAYLOAD_TOO_LARGE'},
  {name: 'incident create wrong content type', method: 'POST', path: '/incident/create', headers: {'content-type': 'text/plain'}, body: json({name: 'x'}), wantStatus: 415, wantCode: 'UNSUPPORTED_MEDIA_TYPE'},
  {name: 'incident create without token', method: 'POST', path: '/incident/create', role: 'none', body: json({name: 'x'}), wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
  {name: 'incident create with unknown token', method: 'POST', path: '/incident/create', role: 'bogus', body: json({name: 'x'}), wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
  {name: 'incident step malformed JSON', method: 'POST', path: '/incident/{open}/step', route: STEP, body: '{"action":', wantStatus: 400, wantCode: 'INVALID_JSON'},
  {name: 'incident step unknown incident', method: 'POST', path: '/incident/inc_01ARYZ6S41TSV4RRFFQ69G5FAV/step', route: STEP, body: json(goodStep), wantStatus: 404, wantCode: 'NOT_FOUND'},
  {name: 'incident step bad id', method: 'POST', path: '/incident/42/step', route: STEP, body: json(goodStep), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incident step lowercase ulid', method: 'POST', path: '/incident/inc_01aryz6s41tsv4rrffq69g5fav/step', route: STEP, body: json(goodStep), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incident step encoded path traversal', method: 'POST', path: '/incident/..%2F..%2Fetc%2Fpasswd/step', route: STEP, body: json(goodStep), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incident step dot-dot segments', method: 'POST', path: '/incident/../../etc/passwd/step', route: STEP, body: json(goodStep), wantStatus: 404, wantCode: 'NOT_FOUND'},
  {name: 'incident step malformed percent-encoding', method: 'POST', path: '/incident/%E0%A4%A/step', route: STEP, body: json(goodStep), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incident step NUL in id', method: 'POST', path: '/incident/inc_%00/step', route: STEP, body: json(goodStep), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incident step on a resolved incident', method: 'POST', path: '/incident/{resolved}/step', route: STEP, body: json(goodStep), wantStatus: 409, wantCode: 'CONFLICT'},
  {name: 'incident step empty action', method: 'POST', path: '/incident/{open}/step', route: STEP, body: json({...goodStep, action: ''}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incident step action over 2000', method: 'POST', path: '/incident/{open}/step', route: STEP, body: json({...goodStep, action: 'a'.repeat(2001)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incident step missing result', method: 'POST', path: '/incident/{open}/step', route: STEP, body: json({action: 'x'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incident step result over 8000', method: 'POST', path: '/incident/{open}/step', route: STEP, body: json({...goodStep, result: 'r'.repeat(8001)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incident step result of wrong type', method: 'POST', path: '/incident/{open}/step', route: STEP, body: json({...goodStep, result: ['ok']}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incident step bad receipt id', method: 'POST', path: '/incident/{open}/step', route: STEP, body: json({...goodStep, receipt_id: '42'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incident step receipt 0', method: 'POST', path: '/incident/{open}/step', route: STEP, body: json({...goodStep, receipt_id: 'rcpt_0'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incident step receipt beyond the ledger', method: 'POST', path: '/incident/{open}/step', route: STEP, body: json({...goodStep, receipt_id: 'rcpt_99999999'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incident step resolve not a boolean', method: 'POST', path: '/incident/{open}/step', route: STEP, body: json({...goodStep, resolve: 'yes'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incident step unknown field', method: 'POST', path: '/incident/{open}/step', route: STEP, body: json({...goodStep, step_number: 7}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incident step oversized body', method: 'POST', path: '/incident/{open}/step', route: STEP, body: json({...goodStep, result: 'r'.repeat(1024 * 1024 + 10)}), wantStatus: 413, wantCode: 'PAYLOAD_TOO_LARGE'},
  {name: 'incident step without token', method: 'POST', path: '/incident/{open}/step', route: STEP, role: 'none', body: json(goodStep), wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
  {name: 'incident get unknown', method: 'GET', path: '/incident/inc_01ARYZ6S41TSV4RRFFQ69G5FAV', route: 'GET /incident/{id}', wantStatus: 404, wantCode: 'NOT_FOUND'},
  {name: 'incident get bad id', method: 'GET', path: '/incident/..%2Fagentd.db', route: 'GET /incident/{id}', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incident get unknown param', method: 'GET', path: '/incident/{open}?steps=0', route: 'GET /incident/{id}', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incident get without token', method: 'GET', path: '/incident/{open}', route: 'GET /incident/{id}', role: 'none', wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
  {name: 'incidents limit 0', method: 'GET', path: '/incidents?limit=0', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incidents negative limit', method: 'GET', path: '/incidents?limit=-3', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incidents fractional limit', method: 'GET', path: '/incidents?limit=2.5', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incidents bad status', method: 'GET', path: '/incidents?status=closed', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incidents bad cursor', method: 'GET', path: '/incidents?cursor=%27%20OR%201%3D1', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incidents unknown param', method: 'GET', path: '/incidents?order=asc', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'incidents without token', method: 'GET', path: '/incidents', role: 'none', wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
  // Receipts
  {name: 'receipts limit 0', method: 'GET', path: '/receipts?limit=0', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'receipts negative limit', method: 'GET', path: '/receipts?limit=-1', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'receipts non-numeric limit', method: 'GET', path: '/receipts?limit=all', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'receipts bad type filter', method: 'GET', path: '/receipts?type=file.%25', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'receipts actor over 128', method: 'GET', path: `/receipts?actor=${'a'.repeat(129)}`, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'receipts since in words', method: 'GET', path: '/receipts?since=yesterday', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'receipts since zero duration', method: 'GET', path: '/receipts?since=0h', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'receipts since absurd duration', method: 'GET', path: '/receipts?since=99999999999d', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'receipts since impossible date', method: 'GET', path: '/receipts?since=2026-13-45T99:00:00Z', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'receipts bad cursor', method: 'GET', path: '/receipts?cursor=rcpt_5', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'receipts cursor 0', method: 'GET', path: '/receipts?cursor=0', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'receipts unknown param', method: 'GET', path: '/receipts?sql=1', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'receipts without token', method: 'GET', path: '/receipts', role: 'none', wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
  {name: 'receipt unknown', method: 'GET', path: '/receipts/rcpt_99999999', route: 'GET /receipts/{id}', wantStatus: 404, wantCode: 'NOT_FOUND'},
  {name: 'receipt of a non-mutation event', method: 'GET', path: '/receipts/rcpt_1', route: 'GET /receipts/{id}', wantStatus: 404, wantCode: 'NOT_FOUND'},
  {name: 'receipt bad id', method: 'GET', path: '/receipts/12', route: 'GET /receipts/{id}', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'receipt id 0', method: 'GET', path: '/receipts/rcpt_0', route: 'GET /receipts/{id}', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'receipt path traversal', method: 'GET', path: '/receipts/..%2F..%2Fledger.db', route: 'GET /receipts/{id}', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'receipt without token', method: 'GET', path: '/receipts/rcpt_1', route: 'GET /receipts/{id}', role: 'none', wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
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
  {name: 'agent on POST /ledger/cosignatures', method: 'POST', path: '/ledger/cosignatures', role: 'agent', body: {}, wantStatus: 403, wantCode: 'FORBIDDEN'},
  {name: 'bad agent id header', method: 'GET', path: '/health', role: 'agent', headers: {'x-osmoda-agent-id': 'Robert"); DROP'}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'bad operator header', method: 'GET', path: '/health', headers: {'x-osmoda-operator': 'root root'}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'oversized request id', method: 'GET', path: '/health', headers: {'x-osmoda-request-id': 'r'.repeat(65)}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
]

badInputTable('agentd bad input: the envelope, nothing written', cases, {
  send: socketSender({
    socket: () => agentd.socket,
    token: (role) => (role === 'agent' ? agent : operator),
    substitute: (text) => text.replace(/\{(open|resolved)\}/g, (_, key: string) => ids[key] as string),
  }),
  state: () => ({ledger: ledgerSize(env.paths.ledgerDb), incidentRows: incidentRows()}),
  check: (res, c) => {
    if (c.wantCode === 'CONFLICT') expect(res.body.error.details).toEqual({state: 'resolved'})
    expect(existsSync(backupDir())).toBe(false)
  },
})

describe('agentd bad input', () => {
  const OWN_TABLES = [' /memory/', ' /approval', ' /agent/card', ' /file/', ' /safety/', ' /service/', ' /journal/', ' /network/', ' /shell/', ' /sandbox/', ' /capability/']
  it('covers every route of the contract', () => {
    // Given the route table / When compared with the paths the cases hit / Then none is left out
    const covered = new Set(cases.map((c) => c.route ?? `${c.method} ${c.path.split('?')[0]}`))
    const untested = Object.values(agentdApi)
      .map((r) => `${r.method} ${r.path}`)
      // Areas with their own tables: memory-bad-input.test.ts, approvals.test.ts, agent-card/routes.test.ts and agent-card.test.ts.
      .filter((key) => !covered.has(key) && !OWN_TABLES.some((prefix) => key.includes(prefix)) && !['GET /health', 'GET /system/discover', 'GET /ledger/status'].includes(key))
    expect(untested).toEqual([])
  })

  it('keeps serving after every bad request', async () => {
    const health = await env.client('agentd', agentdApi).health()
    expect(health.status).toBe('ok')
  })

  it('lets the agent call every incident and receipt route (none is operator-only in SPEC §2.1)', () => {
    const routes = [agentdApi.incidentCreate, agentdApi.incidentStep, agentdApi.incidentGet, agentdApi.incidentList, agentdApi.receiptList, agentdApi.receiptGet]
    for (const r of routes) expect(r.roles, `${r.method} ${r.path}`).toEqual(['operator', 'agent'])
  })

  it.each(['/incidents?status=all&limit=99999999', '/receipts?limit=99999999'])('clamps a huge limit on %s', async (path) => {
    const res = await rawRequest(agentd.socket, 'GET', path, {headers: {authorization: `Bearer ${agent}`}})
    expect(res.status).toBe(200)
    expect(res.body.next_cursor).toBeNull()
  })

  it('clamps a huge backup list limit instead of failing', async () => {
    const res = await rawRequest(agentd.socket, 'GET', '/backup/list?limit=99999999', {headers: {authorization: `Bearer ${operator}`}})
    expect(res.status).toBe(200)
    expect(res.body).toEqual({backups: []})
  })

  it('clamps a huge limit instead of failing', async () => {
    const res = await rawRequest(agentd.socket, 'GET', '/events/log?limit=99999999', {headers: {authorization: `Bearer ${operator}`}})
    expect(res.status).toBe(200)
    expect(res.body.events.length).toBeLessThanOrEqual(1000)
  })
})
