import {chmodSync, mkdirSync, writeFileSync} from 'node:fs'
import {createHmac} from 'node:crypto'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {openLedger} from '../src/lib/ledger/ledger.js'
import {ROOT, testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'
import {startFakeProviders, type FakeProviders} from './helpers/fake-chat-providers.js'
import {gatewayPort, op, tcpRequest} from './helpers/gateway-kit.js'

// The real gateway with the scripted `claude` stand-in, its channels pointed at a local server that
// speaks the Telegram Bot API and the WhatsApp Graph API.
const FIXTURE = join(ROOT, 'test', 'fixtures', 'scripted-runtime', 'claude')
const BOT_TOKEN = '424242:AAe2e-bot-token'
const WEBHOOK_SECRET = 'e2e-webhook-secret_01'
const ACCESS_TOKEN = 'EAAGe2e-access'
const APP_SECRET = 'e2e-app-secret'
const VERIFY_TOKEN = 'e2e-verify'
const PHONE_ID = '109876543210'
const KEY = 'sk-ant-api03-' + 'Chan0Secret'.repeat(5)

let env: TestEnv
let gateway: DaemonProcess
let port: number
let providers: FakeProviders
let scenarioFile: string

const telegram = (updateId: number, fromId: number, text: string, secret: string | null = WEBHOOK_SECRET) =>
  tcpRequest(port, 'POST', '/telegram/webhook', {
    headers: {'content-type': 'application/json', ...(secret === null ? {} : {'x-telegram-bot-api-secret-token': secret})},
    body: JSON.stringify({update_id: updateId, message: {message_id: updateId, from: {id: fromId, is_bot: false, first_name: 'Ada'}, chat: {id: fromId, type: 'private'}, text}}),
  })

const whatsapp = (id: string, from: string, text: string, secret = APP_SECRET) => {
  const body = JSON.stringify({object: 'whatsapp_business_account', entry: [{id: '1', changes: [{field: 'messages', value: {messaging_product: 'whatsapp', metadata: {phone_number_id: PHONE_ID}, messages: [{from, id, timestamp: '1764100000', type: 'text', text: {body: text}}]}}]}]})
  return tcpRequest(port, 'POST', '/whatsapp/webhook', {headers: {'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`}, body})
}

beforeAll(async () => {
  env = await testEnv()
  providers = await startFakeProviders({botToken: BOT_TOKEN, accessToken: ACCESS_TOKEN, phoneNumberId: PHONE_ID})
  const secrets = join(env.base, 'channel-secrets')
  mkdirSync(secrets, {mode: 0o700})
  const file = (name: string, value: string) => {
    writeFileSync(join(secrets, name), value, {mode: 0o600})
    return join(secrets, name)
  }
  scenarioFile = join(env.base, 'scenario')
  writeFileSync(scenarioFile, 'normal')
  const wrapper = join(env.base, 'claude-wrapper')
  writeFileSync(wrapper, `#!/bin/sh\nSCRIPTED_RUNTIME="$(cat ${scenarioFile})" exec ${process.execPath} ${FIXTURE} "$@"\n`)
  chmodSync(wrapper, 0o755)
  const channels = {
    telegram: {enable: true, mode: 'webhook', botTokenFile: file('bot', BOT_TOKEN), webhookSecretFile: file('hook', WEBHOOK_SECRET), apiBaseUrl: providers.baseUrl, allowedUserIds: [7001], operatorUserIds: []},
    whatsapp: {enable: true, phoneNumberId: PHONE_ID, accessTokenFile: file('access', ACCESS_TOKEN), appSecretFile: file('app', APP_SECRET), verifyTokenFile: file('verify', VERIFY_TOKEN), graphApiBaseUrl: providers.baseUrl, allowedNumbers: ['+15550001111']},
  }
  gateway = await env.start('gateway', {OSMODA_GATEWAY_RUNTIMES: JSON.stringify({claudeCodePath: wrapper}), OSMODA_GATEWAY_CHANNELS: JSON.stringify(channels)})
  port = await gatewayPort(env)
  expect((await op(env, 'POST', '/config/credentials', {label: 'main', provider: 'anthropic', type: 'api_key', secret: KEY})).status).toBe(201)
}, 60_000)

afterAll(async () => {
  await gateway?.stopClean()
  await providers?.close()
  await env?.cleanup()
})

describe('channels on the running gateway', () => {
  it('refuses unsigned and forged webhooks with 401 and oversized ones with 413', async () => {
    expect((await telegram(1, 7001, 'x', null)).status).toBe(401)
    const forged = await telegram(1, 7001, 'x', 'not-the-secret')
    expect(forged.status).toBe(401)
    expect((forged.body as any).error.code).toBe('UNAUTHENTICATED')
    expect((await whatsapp('wamid.F', '15550001111', 'x', 'wrong-secret')).status).toBe(401)
    const big = await tcpRequest(port, 'POST', '/telegram/webhook', {headers: {'content-type': 'application/json', 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET}, body: Buffer.alloc(1024 * 1024 + 10, 0x20)})
    expect(big.status).toBe(413)
    const verify = await tcpRequest(port, 'GET', `/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=31337`)
    expect(verify).toMatchObject({status: 200, text: '31337'})
    expect(providers.calls).toEqual([])
  })

  it('runs a Telegram message through the mobile agent and replies through the Bot API', async () => {
    // When an allowed user writes (and Telegram retries the same update)
    expect((await telegram(10, 7001, 'how is the disk?')).status).toBe(200)
    expect((await telegram(10, 7001, 'how is the disk?')).status).toBe(200)
    // Then each assistant message reaches sendMessage, once
    await providers.waitFor(() => providers.sent('sendMessage').length >= 2, 20_000)
    expect(providers.sent('sendMessage').map((c) => [c.body.chat_id, c.body.text])).toEqual([
      ['7001', 'Let me check the system.'],
      ['7001', 'Disk is fine: 40% used.'],
    ])
    expect(providers.sent('sendChatAction').length).toBeGreaterThanOrEqual(1)
    // And the turn is in the mobile agent's history, tagged with its channel
    await expect.poll(async () => (await op(env, 'GET', '/requests?agent_id=mobile')).body.requests.map((r: any) => [r.channel, r.status]), {timeout: 10_000}).toEqual([['telegram', 'completed']])
    const history = await op(env, 'GET', '/chat-history?session_key=agent:mobile')
    expect(history.body.entries.map((e: any) => e.kind)).toEqual(['user', 'agent', 'tool', 'agent'])
  })

  it('answers /status without a run and ignores unknown senders', async () => {
    await telegram(11, 7001, '/status')
    await providers.waitFor(() => providers.sent('sendMessage').length === 3)
    expect(providers.sent('sendMessage')[2]!.body.text).toMatch(/^Agent mobile: idle\nRuntime claude-code, model claude-sonnet-4-6/)
    await telegram(12, 9999, 'let me in')
    await new Promise((r) => setTimeout(r, 300))
    expect(providers.sent('sendMessage')).toHaveLength(3)
    const requests = (await op(env, 'GET', '/requests?agent_id=mobile')).body.requests
    expect(requests).toHaveLength(1)
    // The rejection is in the diagnostics ring, with a hashed sender only
    const diag = await op(env, 'GET', '/diagnostics/log?level=warn')
    const rows = diag.text.trim().split('\n').map((line) => JSON.parse(line))
    const rejected = rows.find((r: any) => r.message === 'channel sender rejected')
    expect(rejected).toMatchObject({kind: 'channel', data: {channel: 'telegram', sender_sha256: expect.stringMatching(/^[0-9a-f]{64}$/)}})
    expect(diag.text).not.toContain('9999')
  })

  it('runs a WhatsApp message in the same conversation and replies through the Graph API', async () => {
    expect((await whatsapp('wamid.E1', '15550001111', 'and memory?')).status).toBe(200)
    await providers.waitFor(() => providers.sent('whatsapp').length >= 2, 20_000)
    expect(providers.sent('whatsapp').map((c) => [c.authorization, c.body.to, c.body.text.body])).toEqual([
      [`Bearer ${ACCESS_TOKEN}`, '15550001111', 'Let me check the system.'],
      [`Bearer ${ACCESS_TOKEN}`, '15550001111', 'Disk is fine: 40% used.'],
    ])
    // One mind: the WhatsApp turn continued the session the Telegram turn started
    await expect.poll(async () => (await op(env, 'GET', '/requests?agent_id=mobile')).body.requests.length, {timeout: 10_000}).toBe(2)
    const requests = (await op(env, 'GET', '/requests?agent_id=mobile')).body.requests
    expect(new Set(requests.map((r: any) => r.session_id)).size).toBe(1)
    expect(requests.map((r: any) => r.channel).sort()).toEqual(['telegram', 'whatsapp'])
  })

  it('/status and /stop on Telegram see and stop a turn started over the API in the same conversation', async () => {
    // Given a turn of the mobile agent that hangs after its first message, started with POST /chat
    writeFileSync(scenarioFile, 'hang-after-first')
    const started = await op(env, 'POST', '/chat', {text: 'long job', agent_id: 'mobile'})
    expect(started.status).toBe(202)
    await expect.poll(async () => (await op(env, 'GET', `/requests/${started.body.request_id}`)).body.status, {timeout: 10_000}).toBe('in_progress')
    const sentBefore = providers.sent('sendMessage').length
    // When the Telegram user asks for the status, then stops it
    await telegram(20, 7001, '/status')
    await providers.waitFor(() => providers.sent('sendMessage').length === sentBefore + 1)
    expect(providers.sent('sendMessage').at(-1)!.body.text).toContain(`working (${started.body.request_id})`)
    await telegram(21, 7001, '/stop')
    await providers.waitFor(() => providers.sent('sendMessage').length === sentBefore + 2, 10_000)
    expect(providers.sent('sendMessage').at(-1)!.body.text).toBe('Stopped.')
    // Then the API turn ended as stopped, and the command is in the ledger
    expect((await op(env, 'GET', `/requests/${started.body.request_id}`)).body).toMatchObject({status: 'failed', failure: {code: 'STOPPED'}})
    const ledger = openLedger(env.paths.ledgerDb, {readonly: true})
    try {
      const commands = ledger.query({type: 'chat.command', limit: 10, order: 'asc'}).map((e) => [e.actor, e.payload])
      expect(commands).toEqual([['gateway', {command: 'stop', channel: 'telegram', outcome: 'ok'}]])
      const rejected = ledger.query({type: 'channel.sender_rejected', limit: 10, order: 'asc'})
      expect(rejected.map((e) => e.payload)).toEqual([{channel: 'telegram', sender_sha256: expect.stringMatching(/^[0-9a-f]{64}$/), rejected_count: 1}])
    } finally {
      ledger.close()
    }
    writeFileSync(scenarioFile, 'normal')
  })
})
