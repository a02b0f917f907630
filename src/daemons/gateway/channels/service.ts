import {readFileSync} from 'node:fs'
import {OsmodaError} from '../../../lib/errors.js'
import type {Ledger} from '../../../lib/ledger/ledger.js'
import type {Logger} from '../../../lib/log.js'
import type {SafetyCalls} from './commands.js'
import type {ChannelsConfig} from './config.js'
import type {ChatDispatcher} from './dispatch.js'
import type {FetchLike} from './provider-http.js'
import {createChannelRelay, type ChannelOutbox} from './relay.js'
import type {ChannelStore} from './store.js'
import {createTelegramApi} from './telegram-api.js'
import {createTelegramChannel, type TelegramChannel} from './telegram.js'
import type {WebhookRequest, WebhookResponse} from './webhook-http.js'
import {createWhatsappChannel, type WhatsappChannel} from './whatsapp.js'

/** A public route a channel serves; it authenticates with the provider's own secret. */
export interface ChannelRoute {
  method: 'GET' | 'POST'
  path: string
  handle(req: WebhookRequest): WebhookResponse
}

/** Dependencies of the channels. */
export interface ChannelsOptions {
  config: ChannelsConfig
  dispatcher: ChatDispatcher
  store: ChannelStore
  ledger: Pick<Ledger, 'append'>
  log: Logger
  safety: SafetyCalls
  /** Where `/skill <name>` looks for `<name>/SKILL.md`, first match wins. */
  skillDirs: readonly string[]
  fetch?: FetchLike
  typingIntervalMs?: number
}

/** The configured channels and the webhook routes the gateway mounts. */
export interface Channels {
  telegram: TelegramChannel | null
  whatsapp: WhatsappChannel | null
  routes: ChannelRoute[]
  /** Starts the Telegram long-poll loop in polling mode; it ends when `signal` aborts. */
  start(signal: AbortSignal): Promise<void>
  /** Resolves when every accepted message has been answered. */
  idle(): Promise<void>
}

/** Builds the Telegram and WhatsApp channels from gateway.json's `channels`. */
export function createChannels(options: ChannelsOptions): Channels {
  const {config, log} = options
  const relayFor = (channel: 'telegram' | 'whatsapp') => (outbox: ChannelOutbox) =>
    createChannelRelay({
      channel,
      outbox,
      dispatcher: options.dispatcher,
      safety: options.safety,
      skillDirs: options.skillDirs,
      ledger: options.ledger,
      log: log.child({channel}),
      typingIntervalMs: options.typingIntervalMs,
    })

  const tg = config.telegram
  const botToken = tg.enable ? readSecret(tg.botTokenFile, 'channels.telegram.botTokenFile', log) : null
  const telegram =
    tg.enable && botToken !== null
      ? createTelegramChannel({
          config: tg,
          webhookSecret: tg.mode === 'webhook' ? readSecret(tg.webhookSecretFile, 'channels.telegram.webhookSecretFile', log) : null,
          api: createTelegramApi({baseUrl: tg.apiBaseUrl, botToken, fetch: options.fetch}),
          store: options.store,
          relay: relayFor('telegram'),
          log: log.child({channel: 'telegram'}),
        })
      : null

  const wa = config.whatsapp
  const whatsapp = wa.enable
    ? createWhatsappChannel({
        config: wa,
        secrets: {
          accessToken: readSecret(wa.accessTokenFile, 'channels.whatsapp.accessTokenFile', log),
          appSecret: readSecret(wa.appSecretFile, 'channels.whatsapp.appSecretFile', log),
          verifyToken: readSecret(wa.verifyTokenFile, 'channels.whatsapp.verifyTokenFile', log),
        },
        store: options.store,
        relay: relayFor('whatsapp'),
        log: log.child({channel: 'whatsapp'}),
        fetch: options.fetch,
      })
    : null

  const disabled = (option: string) => () => {
    throw new OsmodaError('FEATURE_DISABLED', `${option.split('.')[1]} is not enabled`, {details: {option}})
  }
  const routes: ChannelRoute[] = [
    {method: 'POST', path: '/telegram/webhook', handle: telegram ? (req) => telegram.handleWebhook(req) : disabled('channels.telegram.enable')},
    {method: 'GET', path: '/whatsapp/webhook', handle: whatsapp ? (req) => whatsapp.verify(req) : disabled('channels.whatsapp.enable')},
    {method: 'POST', path: '/whatsapp/webhook', handle: whatsapp ? (req) => whatsapp.handleWebhook(req) : disabled('channels.whatsapp.enable')},
  ]

  return {
    telegram,
    whatsapp,
    routes,
    async start(signal) {
      options.store.prune()
      if (telegram && tg.mode === 'polling') await telegram.poll(signal)
    },
    async idle() {
      await Promise.all([telegram?.idle(), whatsapp?.idle()])
    },
  }
}

function readSecret(file: string | undefined, option: string, log: Logger): string | null {
  if (file === undefined) {
    log.error('channel secret file not configured', {option})
    return null
  }
  try {
    const value = readFileSync(file, 'utf8').trim()
    if (value !== '') return value
    log.error('channel secret file is empty', {option, file})
  } catch (error) {
    log.error('channel secret file unreadable', {option, file, error})
  }
  return null
}
