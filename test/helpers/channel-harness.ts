import {mkdtempSync, rmSync, writeFileSync, mkdirSync} from 'node:fs'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {migrate, openDatabase} from '../../src/lib/db/open.js'
import {silentLogger} from '../../src/lib/log.js'
import type {AppendInput} from '../../src/lib/ledger/ledger.js'
import {ChannelsConfig} from '../../src/daemons/gateway/channels/config.js'
import type {SafetyCalls} from '../../src/daemons/gateway/channels/commands.js'
import {createChannels, type ChannelRoute} from '../../src/daemons/gateway/channels/service.js'
import {OsmodaError, toOsmodaError} from '../../src/lib/errors.js'
import {CHANNELS_MIGRATION, createChannelStore} from '../../src/daemons/gateway/channels/store.js'
import {WEBHOOK_MAX_BODY} from '../../src/daemons/gateway/channels/webhook-http.js'
import {createFakeDispatcher, type ReplyScript} from './fake-dispatcher.js'
import {startFakeProviders} from './fake-chat-providers.js'

export const BOT_TOKEN = '123456:AAtest-bot-token_0123456789'
export const WEBHOOK_SECRET = 'tg-secret_0123456789abcdef'
export const ACCESS_TOKEN = 'EAAGtest-access-token'
export const APP_SECRET = 'whatsapp-app-secret-0123'
export const VERIFY_TOKEN = 'verify-me-please'
export const PHONE_NUMBER_ID = '106540352242922'

/**
 * Channels wired to a fake dispatcher and local fake providers, served over a real HTTP server
 * on 127.0.0.1 the way the gateway mounts them. Everything lives in one temp dir.
 */
export async function startChannelHarness(options: {config?: Record<string, unknown>; reply?: ReplyScript; dbPath?: string; dir?: string} = {}) {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'osmoda-channels-'))
  const secrets = join(dir, 'secrets')
  mkdirSync(secrets, {recursive: true})
  const files = {bot: join(secrets, 'bot'), hook: join(secrets, 'hook'), access: join(secrets, 'access'), app: join(secrets, 'app'), verify: join(secrets, 'verify')}
  writeFileSync(files.bot, `${BOT_TOKEN}\n`)
  writeFileSync(files.hook, WEBHOOK_SECRET)
  writeFileSync(files.access, ACCESS_TOKEN)
  writeFileSync(files.app, APP_SECRET)
  writeFileSync(files.verify, VERIFY_TOKEN)
  const skillsDir = join(dir, 'skills')
  mkdirSync(join(skillsDir, 'morning-briefing'), {recursive: true})
  writeFileSync(join(skillsDir, 'morning-briefing', 'SKILL.md'), '---\nname: morning-briefing\nactivation: manual\n---\n# Morning briefing\n\nSummarise the night.\n')
  mkdirSync(join(skillsDir, 'old-skill'), {recursive: true})
  writeFileSync(join(skillsDir, 'old-skill', 'SKILL.md'), '---\nname: old-skill\nactivation: retired\n---\n# Old\n')

  const providers = await startFakeProviders({botToken: BOT_TOKEN, accessToken: ACCESS_TOKEN, phoneNumberId: PHONE_NUMBER_ID})
  const base = {
    telegram: {enable: true, mode: 'webhook', botTokenFile: files.bot, webhookSecretFile: files.hook, apiBaseUrl: providers.baseUrl, allowedUserIds: [1001, 1002], operatorUserIds: [1002], pollTimeoutSecs: 1},
    whatsapp: {enable: true, phoneNumberId: PHONE_NUMBER_ID, accessTokenFile: files.access, appSecretFile: files.app, verifyTokenFile: files.verify, graphApiBaseUrl: providers.baseUrl, allowedNumbers: ['+15550001111', '+15550002222'], operatorNumbers: ['+15550002222']},
  }
  const over = options.config ?? {}
  const config = ChannelsConfig.parse({
    telegram: {...base.telegram, ...(over.telegram as object)},
    whatsapp: {...base.whatsapp, ...(over.whatsapp as object)},
  })
  const db = openDatabase(options.dbPath ?? join(dir, 'gateway.db'))
  migrate(db, [CHANNELS_MIGRATION])
  const store = createChannelStore(db)
  const fake = createFakeDispatcher({reply: options.reply})
  const ledger: AppendInput[] = []
  const safetyCalls: string[] = []
  const safety: SafetyCalls = {
    async rollback() {
      safetyCalls.push('rollback')
      return {from_generation: 42, to_generation: 41}
    },
    async panic() {
      safetyCalls.push('panic')
      return {stopping: ['osmoda-routines.service', 'osmoda-gateway.service'], rollback: true}
    },
    async restart() {
      safetyCalls.push('restart')
      return {unit: 'osmoda-gateway.service', delay_secs: 2}
    },
  }
  const channels = createChannels({
    config,
    dispatcher: fake.dispatcher,
    store,
    ledger: {append: (input) => (ledger.push(structuredClone(input)), {seq: ledger.length, ts: '', prev_hash: '', hash: '', ...input})},
    log: silentLogger,
    safety,
    skillDirs: [skillsDir],
    typingIntervalMs: 50,
  })

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const route = channels.routes.find((r) => r.path === url.pathname && r.method === req.method)
    if (!route) {
      res.writeHead(404).end()
      return
    }
    void serveRoute(route, req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    dir,
    url,
    config,
    providers,
    channels,
    store,
    fake,
    ledger,
    safetyCalls,
    async close(keepDir = false) {
      await channels.idle()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await providers.close()
      db.close()
      if (!keepDir) rmSync(dir, {recursive: true, force: true})
    },
  }
}

/** A Telegram text update from `fromId`. */
export function telegramUpdate(updateId: number, fromId: number, text: string) {
  return {update_id: updateId, message: {message_id: updateId, date: 1764100000, from: {id: fromId, is_bot: false, first_name: 'Ada'}, chat: {id: fromId, type: 'private'}, text}}
}

/** A WhatsApp Cloud API webhook payload with one text message. */
export function whatsappPayload(messageId: string, from: string, text: string, phoneNumberId = PHONE_NUMBER_ID) {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: {display_phone_number: '15550783881', phone_number_id: phoneNumberId},
              contacts: [{profile: {name: 'Ada'}, wa_id: from}],
              messages: [{from, id: messageId, timestamp: '1764100000', type: 'text', text: {body: text}}],
            },
          },
        ],
      },
    ],
  }
}

/**
 * Mounts a channel route on a plain HTTP server the way the gateway's extension front does: at
 * most WEBHOOK_MAX_BODY bytes of raw body (else 413), the handler's answer, failures as the §1.5
 * envelope.
 */
async function serveRoute(route: ChannelRoute, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let status: number
  let body: string
  let type = 'application/json'
  try {
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > WEBHOOK_MAX_BODY) throw new OsmodaError('PAYLOAD_TOO_LARGE', `webhook body is over the ${WEBHOOK_MAX_BODY}-byte limit`)
      chunks.push(chunk)
    }
    const answer = route.handle({method: req.method ?? 'GET', headers: req.headers, query: new URL(req.url ?? '/', 'http://x').searchParams, body: Buffer.concat(chunks)})
    status = answer.status
    if ('text' in answer) {
      body = answer.text
      type = 'text/plain; charset=utf-8'
    } else body = JSON.stringify(answer.json)
  } catch (error) {
    req.resume()
    const failure = toOsmodaError(error)
    status = failure.httpStatus
    body = JSON.stringify(failure.toEnvelope())
  }
  res.writeHead(status, {'content-type': type, 'content-length': Buffer.byteLength(body)})
  res.end(body)
}
