import {generateKeyPairSync} from 'node:crypto'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {verifyCapability} from '../../../lib/capability.js'
import {migrate, openDatabase, type Db} from '../../../lib/db/open.js'
import {OsmodaError} from '../../../lib/errors.js'
import {openLedger, type Ledger} from '../../../lib/ledger/ledger.js'
import {silentLogger} from '../../../lib/log.js'
import {pathsFrom} from '../../../lib/paths.js'
import {createTokenAuth, tokenDigest} from '../../../lib/rpc/auth.js'
import {createClient, type RpcClient} from '../../../lib/rpc/client.js'
import {createRpcServer, type RpcServer} from '../../../lib/rpc/server.js'
import {badInputTable, socketSender, type BadInputCase} from '../../../../test/helpers/bad-input.js'
import {readAllowlist} from '../../egress/api.js'
import type {Gate, GateRequest} from '../approvals/types.js'
import {AGENTD_MIGRATIONS} from '../store.js'
import {capabilityApi} from './api.js'
import {capabilityHandlers} from './routes.js'
import {createCapabilityService, permissionsOutsidePolicy} from './service.js'
import {createCapabilityStore} from './store.js'

const OP = `osm_op_${'o'.repeat(43)}`
const AG = `osm_ag_${'a'.repeat(43)}`
const node = generateKeyPairSync('ed25519')

let dir: string
let db: Db
let ledger: Ledger
let server: RpcServer
let socket: string
let clock: number
let gateCalls: GateRequest[]
let approve: boolean
let operator: RpcClient<typeof capabilityApi>
let agent: RpcClient<typeof capabilityApi>

// A gate double: records each check; a `required` agent request throws APPROVAL_REQUIRED unless `approve`.
const gate: Gate = {
  check(request) {
    gateCalls.push(request)
    if (request.ctx.role === 'operator') return {decision: 'allow', approval_id: null, reason: 'operator'}
    if (request.hint === 'not_required') return {decision: 'allow', approval_id: null, reason: 'not_required'}
    if (approve && request.approvalId) return {decision: 'allow', approval_id: request.approvalId, reason: 'approved'}
    throw new OsmodaError('APPROVAL_REQUIRED', 'needs approval', {details: {approval_id: 'apr_01JDQZ9V7C4Y3M2N1P0Q9R8S7T', expires_at: '2026-11-26T12:10:00.000Z', operation: request.operation, summary: request.summary}})
  },
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-cap-'))
  const paths = pathsFrom({runDir: join(dir, 'run'), stateDir: join(dir, 'state'), configDir: join(dir, 'config')})
  mkdirSync(join(dir, 'tokens'))
  writeFileSync(join(dir, 'tokens', 'operator.sha256'), tokenDigest(OP))
  writeFileSync(join(dir, 'tokens', 'agent.sha256'), tokenDigest(AG))
  db = openDatabase(join(dir, 'agentd.db'))
  migrate(db, AGENTD_MIGRATIONS)
  ledger = openLedger(join(dir, 'ledger.db'))
  clock = Date.parse('2026-11-26T12:00:00.000Z')
  gateCalls = []
  approve = false
  const service = createCapabilityService({
    store: createCapabilityStore(db),
    ledger,
    gate,
    signingKey: node.privateKey,
    verifyKey: node.publicKey,
    now: () => clock,
    policy: () => ({defaultTtlSecs: 900, maxTtlSecs: 3600, fsRoots: ['/srv', '/workspace', `${paths.stateDir}/sandbox`], allowlist: () => readAllowlist(paths)}),
  })
  socket = join(dir, 'agentd.sock')
  server = createRpcServer({daemon: 'agentd', version: '0', api: capabilityApi, handlers: capabilityHandlers(service), auth: createTokenAuth(join(dir, 'tokens')), log: silentLogger})
  await server.listen(socket)
  operator = createClient('agentd', capabilityApi, {socketPath: socket, token: OP})
  agent = createClient('agentd', capabilityApi, {socketPath: socket, token: AG, headers: {'x-osmoda-agent-id': 'ops'}})
})

afterEach(async () => {
  operator.close()
  agent.close()
  await server.close()
  db.close()
  ledger.close()
  rmSync(dir, {recursive: true, force: true})
})

const codeOf = async (p: Promise<unknown>) => p.then(() => 'NO_ERROR', (e: OsmodaError) => e.code)

describe('capability routes', () => {
  it('mints for the agent without an approval inside the egress allowlist and sandbox roots, and ledgers it', async () => {
    // When the agent mints a token for allowlisted hosts and a path under /srv
    const minted = await agent.capabilityMint({granted_to: 'sandbox:build', permissions: ['net:github.com', 'fs:read:/srv/data']})
    // Then the gate was asked with hint not_required and let it through
    expect(gateCalls).toHaveLength(1)
    expect(gateCalls[0]).toMatchObject({operation: 'capability_mint', method: 'POST', path: '/capability/mint', hint: 'not_required', body: {granted_to: 'sandbox:build', ttl_secs: 900}})
    expect(gateCalls[0]?.body).not.toHaveProperty('approval_id')
    // And the token verifies with the node key for both audiences, for 900 s
    expect(minted.id).toMatch(/^cap_[0-9A-HJKMNP-TV-Z]{26}$/)
    expect(minted).toMatchObject({granted_to: 'sandbox:build', issued_at: '2026-11-26T12:00:00.000Z', expires_at: '2026-11-26T12:15:00.000Z'})
    const check = verifyCapability(minted.token, {verifyKey: node.publicKey, audience: 'egress', now: clock, isRevoked: () => false})
    expect(check).toMatchObject({valid: true, claims: {jti: minted.id, sub: 'sandbox:build', perms: ['net:github.com', 'fs:read:/srv/data'], aud: ['egress', 'sandbox']}})
    const [event] = ledger.query({type: 'capability.minted', limit: 1, order: 'desc'})
    expect(event).toMatchObject({actor: 'agent:ops', payload: {token_id: minted.id, granted_to: 'sandbox:build', permissions: ['net:github.com', 'fs:read:/srv/data'], expires_at: minted.expires_at}})
    expect(JSON.stringify(event?.payload)).not.toContain(minted.token.split('.')[2])
  })

  it('asks the gate with hint required for a host outside the allowlist or a path outside the roots, and mints nothing until approved', async () => {
    for (const permissions of [['net:evil.example'], ['net:github.com:8443'], ['fs:write:/etc/nixos'], ['net:*.github.com'], ['net:10.0.0.1']]) {
      // When the agent asks for something outside the policy
      gateCalls = []
      const code = await codeOf(agent.capabilityMint({granted_to: 'x', permissions}))
      // Then the gate got hint required and the call answers 412 APPROVAL_REQUIRED
      expect(code, permissions[0]).toBe('APPROVAL_REQUIRED')
      expect(gateCalls[0]?.hint).toBe('required')
    }
    expect(db.prepare('SELECT count(*) FROM capabilities').pluck().get()).toBe(0)
    expect(ledger.query({type: 'capability.*', limit: 10, order: 'asc'})).toHaveLength(0)
    // When the agent repeats the call with an approved approval id
    approve = true
    const minted = await agent.capabilityMint({granted_to: 'x', permissions: ['net:evil.example'], approval_id: 'apr_01JDQZ9V7C4Y3M2N1P0Q9R8S7T'})
    // Then it is minted, and the gate saw the approval id
    expect(gateCalls.at(-1)).toMatchObject({hint: 'required', approvalId: 'apr_01JDQZ9V7C4Y3M2N1P0Q9R8S7T'})
    expect(minted.permissions).toEqual(['net:evil.example'])
  })

  it('follows the allowlist egress stores: a host added with PUT /egress/allowlist needs no approval any more', async () => {
    // Given the operator's egress allowlist names internal.example
    const state = join(dir, 'state', 'egress')
    mkdirSync(state, {recursive: true})
    writeFileSync(join(state, 'allowlist.json'), JSON.stringify({default_allow: ['*.internal.example'], allowed_ports: [443, 8443], allow_private_cidrs: []}))
    // When the agent mints for a host under it on port 8443 / Then no approval is needed; github.com now needs one
    await agent.capabilityMint({granted_to: 'x', permissions: ['net:reg.internal.example:8443', 'net:*.a.internal.example']})
    expect(gateCalls.at(-1)?.hint).toBe('not_required')
    expect(await codeOf(agent.capabilityMint({granted_to: 'x', permissions: ['net:github.com']}))).toBe('APPROVAL_REQUIRED')
  })

  it('verifies, revokes (once in the ledger) and lists only unexpired revocations', async () => {
    // Given two tokens
    const a = await operator.capabilityMint({granted_to: 'a', permissions: ['net:github.com'], ttl_secs: 60})
    const b = await operator.capabilityMint({granted_to: 'b', permissions: ['net:github.com'], ttl_secs: 3600})
    expect(await operator.capabilityVerify({token: b.token, audience: 'egress'})).toEqual({valid: true, reason: null, token_id: b.id, granted_to: 'b', permissions: ['net:github.com'], expires_at: b.expires_at})
    // When both are revoked, b twice
    expect(await operator.capabilityRevoke({token_id: a.id})).toEqual({revoked: true})
    expect(await operator.capabilityRevoke({token_id: b.id})).toEqual({revoked: true})
    expect(await operator.capabilityRevoke({token_id: b.id})).toEqual({revoked: true})
    // Then verify says revoked, the ledger has one event per token, and the list holds both
    expect(await operator.capabilityVerify({token: b.token, audience: 'sandbox'})).toMatchObject({valid: false, reason: 'revoked', token_id: b.id})
    expect(ledger.query({type: 'capability.revoked', limit: 10, order: 'asc'}).map((e) => [e.actor, e.payload.token_id])).toEqual([
      ['operator:root', a.id],
      ['operator:root', b.id],
    ])
    expect((await operator.capabilityRevoked()).revoked.map((r) => r.token_id)).toEqual([a.id, b.id])
    // When a's lifetime has passed / Then only b is listed
    clock += 61_000
    expect(await operator.capabilityRevoked()).toEqual({revoked: [{token_id: b.id, expires_at: b.expires_at}]})
    expect(await operator.capabilityVerify({token: a.token, audience: 'egress'})).toMatchObject({valid: false, reason: 'expired'})
  })

  it('reports forged and malformed tokens without claims', async () => {
    const minted = await operator.capabilityMint({granted_to: 'a', permissions: ['net:github.com']})
    const forged = `${minted.token.slice(0, -4)}AAAA`
    expect(await operator.capabilityVerify({token: forged, audience: 'egress'})).toEqual({valid: false, reason: 'bad_signature', token_id: null, granted_to: null, permissions: null, expires_at: null})
    expect(await operator.capabilityVerify({token: 'osmcap1.x.y', audience: 'egress'})).toMatchObject({valid: false, reason: 'malformed'})
  })

  it('decides the policy per permission', () => {
    const allowlist = {default_allow: ['github.com', '*.nixos.org'], allowed_ports: [443]}
    const roots = ['/srv', '/tmp/osmoda-sandbox']
    expect(permissionsOutsidePolicy(['net:github.com', 'net:cache.nixos.org', 'net:*.x.nixos.org', 'fs:read:/srv', 'fs:write:/srv/a/b'], allowlist, roots)).toEqual([])
    expect(permissionsOutsidePolicy(['net:api.github.com', 'net:nixos.org', 'net:*.github.com', 'net:github.com:80', 'fs:read:/srvx', 'fs:read:/tmp', 'fs:read:/'], allowlist, roots)).toEqual([
      'net:api.github.com',
      'net:nixos.org',
      'net:*.github.com',
      'net:github.com:80',
      'fs:read:/srvx',
      'fs:read:/tmp',
      'fs:read:/',
    ])
  })
})

const json = (value: unknown) => JSON.stringify(value)
const mint = {granted_to: 'sandbox:x', permissions: ['net:github.com']}

// Bad input of every capability route: the envelope with a stable code, nothing written.
const cases: BadInputCase[] = [
  {name: 'mint malformed JSON', method: 'POST', path: '/capability/mint', body: '{"granted_to": ', wantStatus: 400, wantCode: 'INVALID_JSON'},
  {name: 'mint missing permissions', method: 'POST', path: '/capability/mint', body: json({granted_to: 'x'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'mint empty permissions', method: 'POST', path: '/capability/mint', body: json({...mint, permissions: []}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'mint 65 permissions', method: 'POST', path: '/capability/mint', body: json({...mint, permissions: Array.from({length: 65}, (_, i) => `net:h${i}.example`)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'mint bad grammar', method: 'POST', path: '/capability/mint', body: json({...mint, permissions: ['http://github.com']}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'mint relative path', method: 'POST', path: '/capability/mint', body: json({...mint, permissions: ['fs:read:srv']}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'mint dot-dot path', method: 'POST', path: '/capability/mint', body: json({...mint, permissions: ['fs:write:/srv/../etc']}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'mint port 0', method: 'POST', path: '/capability/mint', body: json({...mint, permissions: ['net:github.com:0']}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'mint port 70000', method: 'POST', path: '/capability/mint', body: json({...mint, permissions: ['net:github.com:70000']}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'mint host with underscore', method: 'POST', path: '/capability/mint', body: json({...mint, permissions: ['net:a_b.example']}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'mint permission not a string', method: 'POST', path: '/capability/mint', body: json({...mint, permissions: [42]}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'mint granted_to empty', method: 'POST', path: '/capability/mint', body: json({...mint, granted_to: ''}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'mint granted_to too long', method: 'POST', path: '/capability/mint', body: json({...mint, granted_to: 'x'.repeat(129)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'mint granted_to with newline', method: 'POST', path: '/capability/mint', body: json({...mint, granted_to: 'a\nb'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'mint ttl 59', method: 'POST', path: '/capability/mint', body: json({...mint, ttl_secs: 59}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'mint ttl negative', method: 'POST', path: '/capability/mint', body: json({...mint, ttl_secs: -1}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'mint ttl fractional', method: 'POST', path: '/capability/mint', body: json({...mint, ttl_secs: 90.5}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'mint ttl huge', method: 'POST', path: '/capability/mint', body: json({...mint, ttl_secs: 1e12}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'mint ttl above the configured max', method: 'POST', path: '/capability/mint', body: json({...mint, ttl_secs: 7200}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'mint unknown field', method: 'POST', path: '/capability/mint', body: json({...mint, aud: ['egress']}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'mint without token', method: 'POST', path: '/capability/mint', role: 'none', body: json(mint), wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
  {name: 'verify by the agent', method: 'POST', path: '/capability/verify', role: 'agent', body: json({token: 'osmcap1.a.b', audience: 'egress'}), wantStatus: 403, wantCode: 'FORBIDDEN'},
  {name: 'verify bad audience', method: 'POST', path: '/capability/verify', body: json({token: 'osmcap1.a.b', audience: 'mesh'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'verify missing token', method: 'POST', path: '/capability/verify', body: json({audience: 'egress'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'verify token too long', method: 'POST', path: '/capability/verify', body: json({token: 'x'.repeat(65_537), audience: 'egress'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'revoke by the agent', method: 'POST', path: '/capability/revoke', role: 'agent', body: json({token_id: 'cap_01JDQZ9V7C4Y3M2N1P0Q9R8S7T'}), wantStatus: 403, wantCode: 'FORBIDDEN'},
  {name: 'revoke bad id', method: 'POST', path: '/capability/revoke', body: json({token_id: 'cap_../../x'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'revoke unknown id', method: 'POST', path: '/capability/revoke', body: json({token_id: 'cap_01JDQZ9V7C4Y3M2N1P0Q9R8S7T'}), wantStatus: 404, wantCode: 'NOT_FOUND'},
  {name: 'revoke id wrong type', method: 'POST', path: '/capability/revoke', body: json({token_id: 7}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'revoked by the agent', method: 'GET', path: '/capability/revoked', role: 'agent', wantStatus: 403, wantCode: 'FORBIDDEN'},
  {name: 'revoked unknown query field', method: 'GET', path: '/capability/revoked?all=1', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'revoked wrong method', method: 'DELETE', path: '/capability/revoked', wantStatus: 405, wantCode: 'METHOD_NOT_ALLOWED'},
]

badInputTable('capability routes: bad input', cases, {
  send: socketSender({socket: () => socket, token: (role) => (role === 'operator' ? OP : AG)}),
  check: () => {
    expect(db.prepare('SELECT count(*) FROM capabilities').pluck().get()).toBe(0)
    expect(ledger.size()).toBe(0)
  },
})
