import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import Database from 'better-sqlite3'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'
import {op} from './helpers/gateway-kit.js'
import {rawRequest} from './helpers/raw-request.js'

const SECRET = 'sk-ant-api03-' + 'S3cr3tValue'.repeat(6)
let env: TestEnv
let gateway: DaemonProcess
let provider: Server
let providerUrl: string
const providerSeen: {path: string; key: string | undefined}[] = []

beforeAll(async () => {
  // A local stand-in for the provider's model list: accepts only SECRET.
  provider = createServer((req, res) => {
    providerSeen.push({path: req.url ?? '', key: req.headers['x-api-key'] as string | undefined})
    if (req.headers['x-api-key'] !== SECRET) {
      res.writeHead(401, {'content-type': 'application/json'})
      return res.end(JSON.stringify({error: {message: `invalid x-api-key ${String(req.headers['x-api-key'])}`}}))
    }
    res.writeHead(200, {'content-type': 'application/json'})
    res.end(JSON.stringify({data: [{id: 'claude-opus-4-6'}, {id: 'claude-sonnet-4-6'}]}))
  })
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve))
  providerUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`
  env = await testEnv()
  gateway = await env.start('gateway', {OSMODA_GATEWAY_ALLOW_PRIVATE_BASE_URLS: 'true', OSMODA_GATEWAY_LOG_LEVEL: 'debug'})
}, 60_000)

afterAll(async () => {
  await gateway?.stopClean()
  await env?.cleanup()
  provider?.close()
})

const agent = {id: 'ops', display_name: 'Ops', runtime: 'openclaw', model: 'claude-sonnet-4-6', channels: ['api']}

describe('agents.json routes', () => {
  const bad = [
    {name: 'PUT without agents', method: 'PUT', path: '/config/agents', body: {bindings: []}, code: 'VALIDATION_FAILED'},
    {name: 'PUT empty agents', method: 'PUT', path: '/config/agents', body: {agents: []}, code: 'VALIDATION_FAILED'},
    {name: 'PUT duplicate ids', method: 'PUT', path: '/config/agents', body: {agents: [agent, agent]}, code: 'VALIDATION_FAILED'},
    {name: 'PUT binding to a missing agent', method: 'PUT', path: '/config/agents', body: {agents: [agent], bindings: [{channel: 'web', agent_id: 'ghost'}]}, code: 'VALIDATION_FAILED'},
    {name: 'PUT channel bound twice', method: 'PUT', path: '/config/agents', body: {agents: [agent], bindings: [{channel: 'api', agent_id: 'ops'}, {channel: 'api', agent_id: 'ops'}]}, code: 'VALIDATION_FAILED'},
    {name: 'POST unknown field', method: 'POST', path: '/config/agents', body: {...agent, id: 'x1', shell: true}, code: 'VALIDATION_FAILED'},
    {name: 'POST bad id', method: 'POST', path: '/config/agents', body: {...agent, id: 'Ops!'}, code: 'VALIDATION_FAILED'},
    {name: 'POST id too long', method: 'POST', path: '/config/agents', body: {...agent, id: 'a'.repeat(33)}, code: 'VALIDATION_FAILED'},
    {name: 'POST unknown runtime', method: 'POST', path: '/config/agents', body: {...agent, id: 'x2', runtime: 'bash'}, code: 'VALIDATION_FAILED'},
    {name: 'POST unknown channel', method: 'POST', path: '/config/agents', body: {...agent, id: 'x3', channels: ['irc']}, code: 'VALIDATION_FAILED'},
    {name: 'POST relative workspace', method: 'POST', path: '/config/agents', body: {...agent, id: 'x4', workspace_dir: 'ws'}, code: 'VALIDATION_FAILED'},
    {name: 'POST workspace with ..', method: 'POST', path: '/config/agents', body: {...agent, id: 'x5', workspace_dir: '/var/lib/../../etc'}, code: 'VALIDATION_FAILED'},
    {name: 'POST existing id', method: 'POST', path: '/config/agents', body: {...agent, id: 'osmoda'}, code: 'ALREADY_EXISTS'},
    {name: 'POST unknown credential', method: 'POST', path: '/config/agents', body: {...agent, id: 'x6', credential_id: 'cred_01JD0000000000000000000000'}, code: 'VALIDATION_FAILED'},
    {name: 'PATCH unknown agent', method: 'PATCH', path: '/config/agents/ghost', body: {enabled: false}, code: 'NOT_FOUND'},
    {name: 'PATCH wrong type', method: 'PATCH', path: '/config/agents/osmoda', body: {enabled: 'yes'}, code: 'VALIDATION_FAILED'},
    {name: 'PATCH the id', method: 'PATCH', path: '/config/agents/osmoda', body: {id: 'other'}, code: 'VALIDATION_FAILED'},
    {name: 'PATCH model with spaces', method: 'PATCH', path: '/config/agents/osmoda', body: {model: 'rm -rf /'}, code: 'VALIDATION_FAILED'},
    {name: 'PATCH bad path param', method: 'PATCH', path: '/config/agents/..%2Fetc', body: {enabled: false}, code: 'VALIDATION_FAILED'},
    {name: 'DELETE unknown agent', method: 'DELETE', path: '/config/agents/ghost', code: 'NOT_FOUND'},
  ]
  it.each(bad)('$name → $code, nothing written', async (row) => {
    // Given agents.json as it is
    const file = join(env.paths.stateDir, 'gateway', 'agents.json')
    const before = readFileSync(file, 'utf8')
    // When the bad request arrives
    const res = await op(env, row.method, row.path, row.body)
    // Then it is refused and the file is untouched
    expect(res.body.error.code).toBe(row.code)
    expect(res.status).toBe(row.code === 'NOT_FOUND' ? 404 : row.code === 'ALREADY_EXISTS' ? 409 : 400)
    expect(readFileSync(file, 'utf8')).toBe(before)
  })

  it('rejects non-JSON, wrong media types and oversized bodies', async () => {
    const socket = env.paths.socket('gateway')
    const auth = {authorization: `Bearer ${env.token('operator')}`}
    expect((await rawRequest(socket, 'POST', '/config/agents', {headers: {...auth, 'content-type': 'application/json'}, body: '{'})).body.error.code).toBe('INVALID_JSON')
    expect((await rawRequest(socket, 'POST', '/config/agents', {headers: {...auth, 'content-type': 'text/plain'}, body: 'x'})).body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE')
    expect((await rawRequest(socket, 'POST', '/config/agents', {headers: {...auth, 'content-type': 'application/json'}, body: JSON.stringify({pad: 'x'.repeat(1024 * 1024)})})).status).toBe(413)
  })

  it('adds, patches and deletes agents atomically (0600) and ledgers each change', async () => {
    const file = join(env.paths.stateDir, 'gateway', 'agents.json')
    const added = await op(env, 'POST', '/config/agents', agent)
    expect(added.status).toBe(201)
    expect(added.body.agents.map((a: {id: string}) => a.id)).toEqual(['osmoda', 'mobile', 'ops'])
    const patched = await op(env, 'PATCH', '/config/agents/ops', {model: 'claude-haiku-4-5', enabled: false})
    expect(patched.body.agents[2]).toMatchObject({id: 'ops', model: 'claude-haiku-4-5', enabled: false, runtime: 'openclaw'})
    const bound = await op(env, 'PUT', '/config/agents', {agents: patched.body.agents.map(({updated_at: _u, ...a}: {updated_at: string}) => a), bindings: [{channel: 'api', agent_id: 'ops'}]})
    expect(bound.status).toBe(200)
    const removed = await op(env, 'DELETE', '/config/agents/ops')
    expect(removed.body).toEqual({deleted: 'ops'})
    const after = JSON.parse(readFileSync(file, 'utf8'))
    expect(after.agents.map((a: {id: string}) => a.id)).toEqual(['osmoda', 'mobile'])
    expect(after.bindings).toEqual([])
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const ledger = new Database(env.paths.ledgerDb, {readonly: true})
    const types = ledger.prepare(`SELECT type, actor FROM events WHERE type = 'config.agents_changed'`).all() as {type: string; actor: string}[]
    ledger.close()
    expect(types.length).toBeGreaterThanOrEqual(4)
    expect(types.every((t) => t.actor.startsWith('operator:'))).toBe(true)
  })
})

describe('credentials', () => {
  let credId: string

  it('adds a credential: secret_preview only, first becomes default, file encrypted 0600', async () => {
    // When a credential is added
    const res = await op(env, 'POST', '/config/credentials', {label: 'main', provider: 'anthropic', type: 'api_key', secret: SECRET, base_url: providerUrl})
    // Then the answer shows a preview, never the secret
    expect(res.status).toBe(201)
    credId = res.body.id
    expect(res.body).toMatchObject({label: 'main', provider: 'anthropic', is_default: true, secret_preview: `${SECRET.slice(0, 12)}…${SECRET.slice(-4)}`})
    expect(res.text).not.toContain(SECRET)
    const file = join(env.paths.stateDir, 'gateway', 'credentials.json.enc')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const box = JSON.parse(readFileSync(file, 'utf8'))
    expect(Object.keys(box).sort()).toEqual(['ct', 'nonce', 'v'])
    expect(readFileSync(file, 'utf8')).not.toContain('S3cr3t')
    const list = await op(env, 'GET', '/config/credentials')
    expect(list.body.default_credential_id).toBe(credId)
    expect(list.text).not.toContain(SECRET)
  })

  it('tests a credential against the provider model list', async () => {
    const res = await op(env, 'POST', `/config/credentials/${credId}/test`)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ok: true, error: null, model_list: ['claude-opus-4-6', 'claude-sonnet-4-6']})
    expect(providerSeen.at(-1)).toEqual({path: '/v1/models', key: SECRET})
    const list = await op(env, 'GET', '/config/credentials')
    expect(list.body.credentials[0]).toMatchObject({last_test_ok: true, last_test_error: null})
  })

  it('reports a rejected key as ok:false without echoing any secret', async () => {
    const wrong = 'sk-ant-api03-' + 'WrongWrongWrong'.repeat(3)
    const added = await op(env, 'POST', '/config/credentials', {label: 'bad', provider: 'anthropic', type: 'api_key', secret: wrong, base_url: providerUrl})
    const res = await op(env, 'POST', `/config/credentials/${added.body.id}/test`)
    expect(res.body.ok).toBe(false)
    expect(res.body.error).toMatch(/HTTP 401/)
    expect(res.text).not.toContain(wrong)
    expect((await op(env, 'DELETE', `/config/credentials/${added.body.id}`)).body).toEqual({deleted: added.body.id})
  })

  const bad = [
    {name: 'missing secret', body: {provider: 'anthropic', type: 'api_key'}, code: 'VALIDATION_FAILED'},
    {name: 'short secret', body: {provider: 'anthropic', type: 'api_key', secret: 'short'}, code: 'VALIDATION_FAILED'},
    {name: 'secret too long', body: {provider: 'anthropic', type: 'api_key', secret: 'x'.repeat(4097)}, code: 'VALIDATION_FAILED'},
    {name: 'unknown provider', body: {provider: 'acme', type: 'api_key', secret: SECRET}, code: 'VALIDATION_FAILED'},
    {name: 'unknown type', body: {provider: 'anthropic', type: 'password', secret: SECRET}, code: 'VALIDATION_FAILED'},
    {name: 'label too long', body: {provider: 'anthropic', type: 'api_key', secret: SECRET, label: 'l'.repeat(61)}, code: 'VALIDATION_FAILED'},
    {name: 'base_url not a URL', body: {provider: 'anthropic', type: 'api_key', secret: SECRET, base_url: 'file:///etc/passwd'}, code: 'VALIDATION_FAILED'},
    {name: 'unknown field', body: {provider: 'anthropic', type: 'api_key', secret: SECRET, owner: 'me'}, code: 'VALIDATION_FAILED'},
  ]
  it.each(bad)('POST /config/credentials $name → $code', async (row) => {
    const res = await op(env, 'POST', '/config/credentials', row.body)
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe(row.code)
    expect(res.text).not.toContain(SECRET)
  })

  it.each([
    {name: 'test unknown', method: 'POST', path: '/config/credentials/cred_01JD0000000000000000000000/test', status: 404},
    {name: 'default unknown', method: 'POST', path: '/config/credentials/cred_01JD0000000000000000000000/default', status: 404},
    {name: 'rename unknown', method: 'PATCH', path: '/config/credentials/cred_01JD0000000000000000000000', body: {label: 'x'}, status: 404},
    {name: 'rename empty label', method: 'PATCH', path: '/config/credentials/cred_01JD0000000000000000000000', body: {label: ''}, status: 400},
    {name: 'bad id', method: 'DELETE', path: '/config/credentials/not-an-id', status: 400},
  ])('$name → $status', async (row) => {
    expect((await op(env, row.method, row.path, row.body)).status).toBe(row.status)
  })

  it('refuses to delete a credential an agent uses', async () => {
    await op(env, 'PATCH', '/config/agents/osmoda', {credential_id: credId})
    const res = await op(env, 'DELETE', `/config/credentials/${credId}`)
    expect(res.status).toBe(409)
    expect(res.body.error.code).toBe('CREDENTIAL_IN_USE')
    await op(env, 'PATCH', '/config/agents/osmoda', {credential_id: null})
  })

  it('never writes the secret to the log', () => {
    expect(gateway.stderr()).not.toContain(SECRET)
    expect(gateway.stderr()).not.toContain('S3cr3tValue')
  })

  it('answers 503 KEYSTORE_LOCKED with a wrong key and never rewrites the file', async () => {
    // Given the gateway stopped and its key replaced
    await gateway.stopClean()
    const file = join(env.paths.stateDir, 'gateway', 'credentials.json.enc')
    const before = readFileSync(file)
    writeFileSync(join(env.paths.configDir, 'secrets', 'gateway.key'), Buffer.alloc(32, 7), {mode: 0o600})
    gateway = await env.start('gateway')
    // When credentials are listed or added
    const list = await op(env, 'GET', '/config/credentials')
    const add = await op(env, 'POST', '/config/credentials', {provider: 'anthropic', type: 'api_key', secret: SECRET})
    // Then both are locked and the ciphertext is untouched
    expect(list.status).toBe(503)
    expect(list.body.error.code).toBe('KEYSTORE_LOCKED')
    expect(add.body.error.code).toBe('KEYSTORE_LOCKED')
    expect(readFileSync(file).equals(before)).toBe(true)
    const health = await op(env, 'GET', '/health')
    expect(health.body.status).toBe('degraded')
  })
})
