import {existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {rawRequest} from '../../../../test/helpers/raw-request.js'
import {badInputTable, socketSender, type BadInputCase} from '../../../../test/helpers/bad-input.js'
import {OsmodaError} from '../../../lib/errors.js'
import {loadNodeKeys} from '../../../lib/identity.js'
import {openLedger, type Ledger} from '../../../lib/ledger/ledger.js'
import {silentLogger} from '../../../lib/log.js'
import {pathsFrom, type OsmodaPaths} from '../../../lib/paths.js'
import {createTokenAuth} from '../../../lib/rpc/auth.js'
import {createRpcServer, type RpcServer} from '../../../lib/rpc/server.js'
import {initState} from '../../../lib/state-init.js'
import type {Gate, GateRequest} from '../approvals/types.js'
import {agentCardApi} from './api.js'
import {agentCardHandlers} from './routes.js'
import {createAgentCardService} from './service.js'
import {verifyAgentCard} from './signature.js'

const APPROVED = 'apr_01JDX8Q4S1T6V0W7Y2Z3A4B5C6'

/** A Gate double keeping the contract: operators pass; agents need the one approved id. */
function recordingGate(): Gate & {calls: GateRequest[]} {
  const calls: GateRequest[] = []
  return {
    calls,
    check(request) {
      calls.push(structuredClone({...request, ctx: {role: request.ctx.role, actor: request.ctx.actor}}))
      if (request.ctx.role === 'operator') return {decision: 'allow', approval_id: null, reason: 'operator'}
      if (request.approvalId === APPROVED) return {decision: 'allow', approval_id: APPROVED, reason: 'approved'}
      if (request.approvalId) throw new OsmodaError('APPROVAL_INVALID', 'unknown approval', {details: {reason: 'unknown'}})
      throw new OsmodaError('APPROVAL_REQUIRED', 'agent_card needs approval', {details: {approval_id: APPROVED, expires_at: '2026-11-25T21:40:00.000Z', operation: 'agent_card', summary: request.summary}})
    },
  }
}

let dir: string
let paths: OsmodaPaths
let ledger: Ledger
let server: RpcServer
let gate: ReturnType<typeof recordingGate>
let file: string
let socket: string
const token = (role: 'operator' | 'agent') => readFileSync(join(paths.tokensDir, role), 'utf8').trim()

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-card-routes-'))
  paths = pathsFrom({runDir: join(dir, 'run'), stateDir: join(dir, 'state'), configDir: join(dir, 'config')})
  initState(paths)
  ledger = openLedger(paths.ledgerDb)
  gate = recordingGate()
  file = join(paths.daemonStateDir('agentd'), 'agent-card.json')
  const cards = createAgentCardService({
    file,
    signingKey: loadNodeKeys(paths).signingKey,
    ledger,
    gate,
    version: '0.1.0',
    settings: () => ({name: 'osmoda', description: 'AI-native system agent with auditable safety', image: null}),
    enabledDaemons: async () => ['agentd'],
    gatewayUrl: () => 'http://127.0.0.1:18789',
    socket: (name) => paths.socket(name),
  })
  server = createRpcServer({daemon: 'agentd', version: '0.1.0', api: agentCardApi, handlers: agentCardHandlers(cards), auth: createTokenAuth(paths.tokensDir), log: silentLogger})
  socket = join(dir, 'agentd.sock')
  await server.listen(socket)
})

afterEach(async () => {
  await server.close()
  ledger.close()
  rmSync(dir, {recursive: true, force: true})
})

const send = (method: string, path: string, role: 'operator' | 'agent' | 'none', body?: string, agentId = 'ops') =>
  rawRequest(socket, method, path, {
    headers: {
      ...(role === 'none' ? {} : {authorization: `Bearer ${token(role)}`}),
      ...(role === 'agent' ? {'x-osmoda-agent-id': agentId} : {}),
      ...(body === undefined ? {} : {'content-type': 'application/json'}),
    },
    body,
  })

const json = (value: unknown) => JSON.stringify(value)
const svc = {name: 'web', endpoint: 'https://ops.example.com', version: '1'}

// Rows without a path are POST /agent/card/generate.
const cases: BadInputCase[] = ([
  {name: 'malformed JSON', body: '{"name": ', wantStatus: 400, wantCode: 'INVALID_JSON'},
  {name: 'name empty', body: json({name: ''}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'name blank', body: json({name: '   '}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'name over 100', body: json({name: 'n'.repeat(101)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'name with a newline', body: json({name: 'a\nb'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'name wrong type', body: json({name: 7}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'description over 1000', body: json({description: 'd'.repeat(1001)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'description with NUL', body: json({description: 'a\u0000b'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'more than 16 services', body: json({services: Array.from({length: 17}, (_, i) => ({...svc, name: `s${i}`}))}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'services not a list', body: json({services: svc}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'service without version', body: json({services: [{name: 'web', endpoint: 'https://x'}]}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'service endpoint not a URI', body: json({services: [{...svc, endpoint: 'ops.example.com'}]}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'service endpoint with a newline', body: json({services: [{...svc, endpoint: 'https://x\ny'}]}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'service name with a space', body: json({services: [{...svc, name: 'my web'}]}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'service name empty', body: json({services: [{...svc, name: ''}]}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'service version empty', body: json({services: [{...svc, version: ''}]}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'service unknown field', body: json({services: [{...svc, secret: 'x'}]}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'unknown field', body: json({name: 'x', signatures: []}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'action is not a route field', body: json({action: 'generate'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'approval_id too long', role: 'agent', body: json({approval_id: 'a'.repeat(65)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'without token', role: 'none', body: json({}), wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
  {name: 'agent without approval', role: 'agent', body: json({name: 'mine'}), wantStatus: 412, wantCode: 'APPROVAL_REQUIRED'},
  {name: 'agent with an unknown approval', role: 'agent', body: json({name: 'mine', approval_id: 'apr_nope'}), wantStatus: 412, wantCode: 'APPROVAL_INVALID'},
  {name: 'GET with a query field', method: 'GET', path: '/agent/card?name=x', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'GET without token', method: 'GET', path: '/agent/card', role: 'none', wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
  {name: 'generate by GET', method: 'GET', path: '/agent/card/generate', wantStatus: 405, wantCode: 'METHOD_NOT_ALLOWED'},
] as (Omit<BadInputCase, 'path'> & {path?: string})[]).map((c) => ({path: '/agent/card/generate', ...c}))

badInputTable('agent card routes: bad input, nothing written or ledgered', cases, {
  send: socketSender({socket: () => socket, token, agentHeaders: {'x-osmoda-agent-id': 'ops'}}),
  state: () => ({ledger: ledger.size(), card: existsSync(file)}),
  check: () => expect(existsSync(file)).toBe(false),
})

describe('agent card routes', () => {
  it('serves a signed default card to both roles before any generate, writing nothing', async () => {
    for (const role of ['operator', 'agent'] as const) {
      const res = await send('GET', '/agent/card', role)
      expect(res.status).toBe(200)
      expect(res.body.card).toMatchObject({name: 'osmoda', skills: [{id: 'system-administration'}]})
      expect(res.body.registration.services.map((s: {name: string}) => s.name)).toEqual(['mcp', 'a2a'])
      expect(verifyAgentCard(res.body.card, loadNodeKeys(paths).verifyKey)).toBe(true)
    }
    expect(existsSync(file)).toBe(false)
    expect(gate.calls).toEqual([])
  })

  it('lets the operator generate through the gate as an operator, stores the card and ledgers it', async () => {
    // When the operator generates with a name and one service
    const res = await send('POST', '/agent/card/generate', 'operator', json({name: 'web-01', description: 'shop backend', services: [svc]}))
    // Then the gate saw an operator request for agent_card and let it pass
    expect(res.status, res.text).toBe(200)
    expect(gate.calls).toMatchObject([{operation: 'agent_card', method: 'POST', path: '/agent/card/generate', ctx: {role: 'operator'}, body: {name: 'web-01', description: 'shop backend', services: [svc]}}])
    // And the stored file is what was answered, signed, and what GET now serves
    const stored = JSON.parse(readFileSync(file, 'utf8'))
    expect(stored).toEqual(res.body)
    expect(statSync(file).mode & 0o777).toBe(0o644)
    expect(verifyAgentCard(stored.card, loadNodeKeys(paths).verifyKey)).toBe(true)
    expect((await send('GET', '/agent/card', 'agent')).body).toEqual(stored)
    expect(stored.registration.services).toEqual([svc])
    // And one agent_card.generated event names the card and its services
    const [event] = ledger.query({type: 'agent_card.generated', limit: 5, order: 'asc'})
    expect(event).toMatchObject({actor: 'operator:root', payload: {name: 'web-01', services: ['web']}})
  })

  it('makes the agent ask for approval, then accepts the approved repeat', async () => {
    // Given an agent's request without approval: 412 with the approval details, nothing written
    const first = await send('POST', '/agent/card/generate', 'agent', json({name: 'mine'}))
    expect(first.status).toBe(412)
    expect(first.body.error.details).toMatchObject({approval_id: APPROVED, operation: 'agent_card', summary: expect.stringContaining('"mine"')})
    expect(existsSync(file)).toBe(false)
    // When it repeats the call with the approved id
    const second = await send('POST', '/agent/card/generate', 'agent', json({name: 'mine', approval_id: APPROVED}))
    // Then the card is written; the gate got the same body (without approval_id) and the id
    expect(second.status, second.text).toBe(200)
    expect(gate.calls.map((c) => [c.ctx.role, c.body, c.approvalId])).toEqual([
      ['agent', {name: 'mine'}, null],
      ['agent', {name: 'mine'}, APPROVED],
    ])
    expect(JSON.parse(readFileSync(file, 'utf8')).card.name).toBe('mine')
    expect(ledger.query({type: 'agent_card.generated', limit: 5, order: 'asc'}).map((e) => e.actor)).toEqual(['agent:ops'])
  })

  it('refuses to serve a stored card whose signature no longer verifies', async () => {
    // Given a generated card edited by hand on disk
    await send('POST', '/agent/card/generate', 'operator', json({}))
    const stored = JSON.parse(readFileSync(file, 'utf8'))
    stored.card.name = 'edited'
    writeFileSync(file, JSON.stringify(stored))
    // When it is read / Then 409 CONFLICT with the state and a hint, never the edited card
    const res = await send('GET', '/agent/card', 'operator')
    expect(res.status).toBe(409)
    expect(res.body.error).toMatchObject({code: 'CONFLICT', details: {state: 'signature_invalid'}, hint: expect.stringContaining('generate')})
    writeFileSync(file, '{"card": 1')
    expect((await send('GET', '/agent/card', 'operator')).body.error).toMatchObject({code: 'CONFLICT', details: {state: 'unreadable'}})
  })
})
