import {OsmodaError} from '../../../lib/errors.js'
import type {Logger} from '../../../lib/log.js'
import type {TelegramConfig} from './config.js'
import type {ChannelRelay, ChannelOutbox, InboundText} from './relay.js'
import type {ChannelStore} from './store.js'
import type {TelegramApi, TelegramUpdate} from './telegram-api.js'
import {headerOf, parseWebhookJson, secretEquals, webhookUnauthenticated, type WebhookRequest, type WebhookResponse} from './webhook-http.js'

/** The Telegram channel: webhook handler, long-poll loop and the outbox the relay replies through. */
export interface TelegramChannel {
  /** POST /telegram/webhook: checks the secret header, de-duplicates, answers 200 at once. */
  handleWebhook(req: WebhookRequest): WebhookResponse
  /** Long-polls getUpdates until `signal` aborts (mode polling). */
  poll(signal: AbortSignal): Promise<void>
  /** Resolves when every accepted update has been answered (tests, shutdown). */
  idle(): Promise<void>
}

/** Dependencies of the Telegram channel. */
export interface TelegramChannelOptions {
  config: TelegramConfig
  /** The webhook secret (null: not configured, every webhook is refused). */
  webhookSecret: string | null
  api: TelegramApi
  store: ChannelStore
  relay: (outbox: ChannelOutbox) => ChannelRelay
  log: Logger
  /** Back-off after a failed getUpdates (default 1 s doubling to 30 s). */
  retryDelayMs?: (attempt: number) => number
}

/** The Telegram channel over one bot. */
export function createTelegramChannel(options: TelegramChannelOptions): TelegramChannel {
  const {config, api, store, log} = options
  const allowed = new Set(config.allowedUserIds.map(String))
  const operators = new Set(config.operatorUserIds.map(String))
  const relay = options.relay({send: (chatId, text) => api.sendMessage(chatId, text), typing: (chatId) => api.sendChatAction(chatId, 'typing')})
  const pending = new Set<Promise<void>>()

  const inbound = (update: TelegramUpdate): InboundText | null => {
    const message = update.message
    // Text messages only: photos, stickers, edits and channel posts are ignored.
    if (!message || typeof message.text !== 'string' || message.text === '' || typeof message.from?.id !== 'number' || message.from.is_bot) return null
    const userId = String(message.from.id)
    return {
      chatId: String(message.chat.id),
      user: {id: userId, name: message.from.username ?? message.from.first_name},
      text: message.text,
      allowed: allowed.has(userId),
      operator: allowed.has(userId) && operators.has(userId),
    }
  }

  const accept = (update: TelegramUpdate): void => {
    if (!store.markSeen('telegram', String(update.update_id))) return log.debug('telegram update already handled', {update_id: update.update_id})
    const message = inbound(update)
    if (!message) return
    const task = relay.handle(message).finally(() => pending.delete(task))
    pending.add(task)
  }

  return {
    handleWebhook(req) {
      if (!config.enable || config.mode !== 'webhook') {
        throw new OsmodaError('FEATURE_DISABLED', 'the Telegram webhook is not enabled', {details: {option: config.enable ? 'channels.telegram.mode' : 'channels.telegram.enable'}})
      }
      const given = headerOf(req.headers, 'x-telegram-bot-api-secret-token')
      if (options.webhookSecret === null || given === undefined || !secretEquals(given, options.webhookSecret)) throw webhookUnauthenticated('telegram', 'secret token mismatch')
      const update = parseUpdate(parseWebhookJson(req.body))
      accept(update)
      return {status: 200, json: {ok: true}}
    },

    async poll(signal) {
      let failures = 0
      while (!signal.aborted) {
        try {
          const offset = store.offset('telegram')
          const updates = await api.getUpdates({offset, timeoutSecs: config.pollTimeoutSecs, signal})
          failures = 0
          if (!Array.isArray(updates)) throw new OsmodaError('UPSTREAM_FAILED', 'Telegram getUpdates returned no list')
          for (const raw of updates) {
            try {
              accept(parseUpdate(raw))
            } catch (error) {
              log.warn('telegram update skipped', {error: (error as Error).message})
            }
            const id = (raw as {update_id?: unknown} | null)?.update_id
            if (Number.isSafeInteger(id)) store.saveOffset('telegram', (id as number) + 1)
          }
        } catch (error) {
          if (signal.aborted) break
          failures += 1
          const delay = options.retryDelayMs?.(failures) ?? Math.min(30_000, 1000 * 2 ** (failures - 1))
          log.warn('telegram getUpdates failed', {error: (error as Error).message, retry_in_ms: delay})
          await sleep(delay, signal)
        }
      }
    },

    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending])
    },
  }
}

function parseUpdate(value: unknown): TelegramUpdate {
  const update = value as TelegramUpdate | null
  if (!update || typeof update !== 'object' || !Number.isSafeInteger(update.update_id)) {
    throw new OsmodaError('VALIDATION_FAILED', 'not a Telegram update', {details: ['update_id: expected an integer']})
  }
  const message = update.message
  if (message !== undefined && (typeof message !== 'object' || message === null || typeof message.chat?.id !== 'number')) {
    throw new OsmodaError('VALIDATION_FAILED', 'not a Telegram update', {details: ['message.chat.id: expected an integer']})
  }
  return update
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, {once: true})
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
  })
}
