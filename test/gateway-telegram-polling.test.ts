import {chmodSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ROOT, testEnv, type TestEnv} from './helpers/env.js'
import {startFakeProviders, type FakeProviders} from './helpers/fake-chat-providers.js'
import {op} from './helpers/gateway-kit.js'

// Telegram in polling mode on the real gateway: the long-poll loop runs as a gateway extension,
// ends with the gateway, and its offset survives a restart.
const FIXTURE = join(ROOT, 'test', 'fixtures', 'scripted-runtime', 'claude')
const BOT_TOKEN = '515151:AApolling'
const KEY = 'sk-ant-api03-' + 'Poll0Secret'.repeat(5)

let env: TestEnv
let providers: FakeProviders
let gatewayEnv: Record<string, string>

const update = (id: number, text: string) => ({update_id: id, message: {message_id: id, from: {id: 8001, is_bot: false, first_name: 'Ada'}, chat: {id: 8001, type: 'private'}, text}})

beforeAll(async () => {
  env = await testEnv()
  providers = await startFakeProviders({botToken: BOT_TOKEN, accessToken: 'unused', phoneNumberId: '1'})
  mkdirSync(join(env.base, 'secrets'), {mode: 0o700})
  writeFileSync(join(env.base, 'secrets', 'bot'), BOT_TOKEN, {mode: 0o600})
  const wrapper = join(env.base, 'claude-wrapper')
  writeFileSync(wrapper, `#!/bin/sh\nSCRIPTED_RUNTIME=normal exec ${process.execPath} ${FIXTURE} "$@"\n`)
  chmodSync(wrapper, 0o755)
  gatewayEnv = {
    OSMODA_GATEWAY_RUNTIMES: JSON.stringify({claudeCodePath: wrapper}),
    OSMODA_GATEWAY_CHANNELS: JSON.stringify({telegram: {enable: true, mode: 'polling', botTokenFile: join(env.base, 'secrets', 'bot'), apiBaseUrl: providers.baseUrl, allowedUserIds: [8001], pollTimeoutSecs: 2}}),
  }
}, 60_000)

afterAll(async () => {
  await providers?.close()
  await env?.cleanup()
})

describe('Telegram long polling in the gateway', () => {
  it('answers a polled update, stops cleanly mid-poll, and resumes after the persisted offset', async () => {
    // Given a gateway polling the fake Bot API, with a credential
    const gateway = await env.start('gateway', gatewayEnv)
    expect((await op(env, 'POST', '/config/credentials', {label: 'main', provider: 'anthropic', type: 'api_key', secret: KEY})).status).toBe(201)
    // When an update is queued
    providers.pushUpdate(update(300, 'how is the disk?'))
    // Then the reply comes back through sendMessage
    await providers.waitFor(() => providers.sent('sendMessage').length === 2, 20_000)
    expect(providers.sent('sendMessage').map((c) => c.body.text)).toEqual(['Let me check the system.', 'Disk is fine: 40% used.'])
    await providers.waitFor(() => providers.sent('getUpdates').some((c) => c.body.offset === 301))
    // And SIGTERM ends the gateway cleanly while a long poll is open
    await gateway.stopClean()

    // When it starts again with a new update queued beside the old one
    providers.pushUpdate(update(301, 'and memory?'))
    const pollsBefore = providers.sent('getUpdates').length
    const again = await env.start('gateway', gatewayEnv)
    try {
      await providers.waitFor(() => providers.sent('sendMessage').length === 4, 20_000)
      // Then only the new update was answered: the first getUpdates asked from the stored offset
      const polls = providers.sent('getUpdates').slice(pollsBefore).map((c) => c.body.offset)
      expect(polls[0]).toBe(301)
      expect((await op(env, 'GET', '/chat-history?session_key=agent:mobile')).body.entries.filter((e: any) => e.kind === 'user').map((e: any) => e.text)).toEqual(['how is the disk?', 'and memory?'])
    } finally {
      await again.stopClean()
    }
  })
})
