import {mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {testEnv, type TestEnv} from './helpers/env.js'
import {startFakeProviders, type FakeProviders} from './helpers/fake-chat-providers.js'

const BOT_TOKEN = '777:AAcli-token'

let env: TestEnv
let providers: FakeProviders
let secretFile: string

function writeGatewayConfig(telegram: Record<string, unknown>) {
  mkdirSync(env.paths.configDir, {recursive: true})
  writeFileSync(env.paths.configFile('gateway'), JSON.stringify({channels: {telegram, whatsapp: {enable: true, phoneNumberId: '123', appSecretFile: join(env.base, 'app-secret'), verifyTokenFile: join(env.base, 'nope')}}}))
}

beforeAll(async () => {
  env = await testEnv()
  providers = await startFakeProviders({botToken: BOT_TOKEN, accessToken: 'unused', phoneNumberId: '123'})
  writeFileSync(join(env.base, 'bot-token'), BOT_TOKEN)
  writeFileSync(join(env.base, 'app-secret'), 'app')
  secretFile = join(env.base, 'webhook-secret')
  writeGatewayConfig({enable: true, mode: 'webhook', botTokenFile: join(env.base, 'bot-token'), webhookSecretFile: secretFile, apiBaseUrl: providers.baseUrl, allowedUserIds: [1, 2]})
}, 60_000)

afterAll(async () => {
  await providers?.close()
  await env?.cleanup()
})

describe('osmoda channel telegram', () => {
  it('setup --url creates the secret once and registers it with setWebhook', async () => {
    // When setup runs the first time
    const first = await env.cli(['channel', 'telegram', 'setup', '--url', 'https://osmoda.example.com/telegram/webhook', '--json'])
    expect(first.exitCode).toBe(0)
    expect(first.json.result).toEqual({mode: 'webhook', url: 'https://osmoda.example.com/telegram/webhook', secret_created: true, configured_mode: 'webhook'})
    // Then a 0600 secret exists and Telegram got exactly it
    const secret = readFileSync(secretFile, 'utf8').trim()
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(statSync(secretFile).mode & 0o777).toBe(0o600)
    expect(providers.webhook).toEqual({url: 'https://osmoda.example.com/telegram/webhook', secret_token: secret})
    // And a second run keeps the secret
    const second = await env.cli(['channel', 'telegram', 'setup', '--url', 'https://osmoda.example.com/telegram/webhook', '--json'])
    expect(second.json.result.secret_created).toBe(false)
    expect(readFileSync(secretFile, 'utf8').trim()).toBe(secret)
    // status shows what Telegram knows
    const status = await env.cli(['channel', 'telegram', 'status', '--json'])
    expect(status.json.result).toMatchObject({enabled: true, configured_mode: 'webhook', webhook_url: 'https://osmoda.example.com/telegram/webhook', allowed_users: 2})
    // And the bot token never appears in the output
    expect(first.stdout + first.stderr + status.stdout).not.toContain(BOT_TOKEN)
  })

  it('setup --polling removes the webhook and warns that gateway.json still says webhook', async () => {
    const res = await env.cli(['channel', 'telegram', 'setup', '--polling', '--json'])
    expect(res.exitCode).toBe(0)
    expect(res.json.result).toMatchObject({mode: 'polling', configured_mode: 'webhook'})
    expect(res.json.warnings[0]).toContain('channels.telegram.mode')
    expect(providers.webhook.url).toBe('')
  })

  it.each([
    {name: 'an http URL', args: ['--url', 'http://osmoda.example.com/telegram/webhook'], wantExit: 2, wantCode: 'VALIDATION_FAILED'},
    {name: 'not a URL', args: ['--url', 'not a url'], wantExit: 2, wantCode: 'VALIDATION_FAILED'},
    {name: 'both flags', args: ['--url', 'https://a.example/x', '--polling'], wantExit: 2, wantCode: null},
    {name: 'neither flag', args: [], wantExit: 2, wantCode: null},
  ])('setup refuses $name', async ({args, wantExit, wantCode}) => {
    const res = await env.cli(['channel', 'telegram', 'setup', ...args, '--json'])
    expect(res.exitCode).toBe(wantExit)
    if (wantCode) expect(res.json.error.code).toBe(wantCode)
  })

  it('a bot token Telegram refuses is UPSTREAM_FAILED (exit 1), without the token in the message', async () => {
    writeFileSync(join(env.base, 'bad-token'), '999:AAwrong')
    writeGatewayConfig({enable: true, mode: 'webhook', botTokenFile: join(env.base, 'bad-token'), webhookSecretFile: secretFile, apiBaseUrl: providers.baseUrl})
    const res = await env.cli(['channel', 'telegram', 'status', '--json'])
    expect(res.exitCode).toBe(1)
    expect(res.json.error.code).toBe('UPSTREAM_FAILED')
    expect(res.stdout).not.toContain('999:AAwrong')
  })
})

describe('osmoda channel whatsapp status', () => {
  it('reports the config and which secret files are readable', async () => {
    const res = await env.cli(['channel', 'whatsapp', 'status', '--json'])
    expect(res.exitCode).toBe(0)
    expect(res.json.result).toEqual({
      enabled: true,
      phone_number_id: '123',
      graph_api: 'https://graph.facebook.com/v21.0',
      secrets: {access_token: false, app_secret: true, verify_token: false},
      allowed_numbers: 0,
      operator_numbers: 0,
      webhook_path: '/whatsapp/webhook',
    })
    expect(res.json.warnings).toEqual(['access_token file is not readable', 'verify_token file is not readable'])
  })
})
