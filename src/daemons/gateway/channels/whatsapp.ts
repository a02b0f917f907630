import {createHmac, timingSafeEqual} from 'node:crypto'
import {OsmodaError} from '../../../lib/errors.js'
import type {Logger} from '../../../lib/log.js'
import {normalizeNumber, type WhatsappConfig} from './config.js'
import {type FetchLike, postJson} from './provider-http.js'
import type {ChannelRelay, ChannelOutbox, InboundText} from './relay.js'
import type {ChannelStore} from './store.js'
import {headerOf, parseWebhookJson, secretEquals, webhookUnauthenticated, type WebhookRequest, type WebhookResponse} from './webhook-http.js'

/** The secrets of the WhatsApp channel, read from their files at start and on reload. */
export interface WhatsappSecrets {
  accessToken: string | null
  appSecret: string | null
  verifyToken: string | null
}

/** The WhatsApp Cloud API channel. */
export interface WhatsappChannel {
  /** GET /whatsapp/webhook: the subscription handshake (hub.verify_token → hub.challenge). */
  verify(req: WebhookRequest): WebhookResponse
  /** POST /whatsapp/webhook: checks X-Hub-Signature-256, de-duplicates, answers 200 at once. */
  handleWebhook(req: WebhookRequest): WebhookResponse
  /** Resolves when every accepted message has been answered. */
  idle(): Promise<void>
}

/** Dependencies of the WhatsApp channel. */
export interface WhatsappChannelOptions {
  config: WhatsappConfig
  secrets: WhatsappSecrets
  store: ChannelStore
  relay: (outbox: ChannelOutbox) => ChannelRelay
  log: Logger
  fetch?: FetchLike
}

interface CloudChange {
  field?: unknown
  value?: {metadata?: {phone_number_id?: unknown}; messages?: unknown}
}

interface CloudMessage {
  from?: unknown
  id?: unknown
  type?: unknown
  text?: {body?: unknown}
}

/** The WhatsApp channel over one Cloud API phone number. */
export function createWhatsappChannel(options: WhatsappChannelOptions): WhatsappChannel {
  const {config, secrets, store, log} = options
  const fetchImpl = options.fetch ?? (globalThis.fetch as unknown as FetchLike)
  const allowed = new Set(config.allowedNumbers.map(normalizeNumber))
  const operators = new Set(config.operatorNumbers.map(normalizeNumber))
  const pending = new Set<Promise<void>>()

  const send = async (to: string, text: string) => {
    if (!secrets.accessToken || !config.phoneNumberId) throw new OsmodaError('FEATURE_DISABLED', 'WhatsApp replies need phoneNumberId and accessTokenFile', {details: {option: 'channels.whatsapp.accessTokenFile'}})
    const url = `${config.graphApiBaseUrl.replace(/\/+$/, '')}/${config.graphApiVersion}/${config.phoneNumberId}/messages`
    const body = {messaging_product: 'whatsapp', recipient_type: 'individual', to, type: 'text', text: {preview_url: false, body: text}}
    const {status, json} = await postJson(fetchImpl, url, body, {what: 'WhatsApp messages', headers: {authorization: `Bearer ${secrets.accessToken}`}})
    if (status < 200 || status >= 300) {
      const message = (json as {error?: {message?: unknown}} | null)?.error?.message
      throw new OsmodaError('UPSTREAM_FAILED', `WhatsApp messages: ${typeof message === 'string' ? message.slice(0, 200) : `HTTP ${status}`}`, {details: {status}})
    }
  }
  const relay = options.relay({send})

  const enabled = () => {
    if (!config.enable) throw new OsmodaError('FEATURE_DISABLED', 'the WhatsApp channel is not enabled', {details: {option: 'channels.whatsapp.enable'}})
  }

  const accept = (message: CloudMessage) => {
    if (typeof message.id !== 'string' || typeof message.from !== 'string') return
    if (!store.markSeen('whatsapp', message.id)) return log.debug('whatsapp message already handled', {message_id: message.id})
    if (message.type !== 'text' || typeof message.text?.body !== 'string' || message.text.body === '') return
    const from = normalizeNumber(message.from)
    const inbound: InboundText = {chatId: from, user: {id: from}, text: message.text.body, allowed: allowed.has(from), operator: allowed.has(from) && operators.has(from)}
    const task = relay.handle(inbound).finally(() => pending.delete(task))
    pending.add(task)
  }

  return {
    verify(req) {
      enabled()
      const mode = req.query.get('hub.mode')
      const token = req.query.get('hub.verify_token')
      const challenge = req.query.get('hub.challenge')
      if (mode !== 'subscribe' || token === null || secrets.verifyToken === null || !secretEquals(token, secrets.verifyToken)) throw webhookUnauthenticated('whatsapp', 'verify token mismatch')
      if (challenge === null || challenge.length > 256) throw new OsmodaError('VALIDATION_FAILED', 'hub.challenge is missing or too long', {details: ['hub.challenge: 1..256 characters']})
      return {status: 200, text: challenge}
    },

    handleWebhook(req) {
      enabled()
      if (!signatureValid(headerOf(req.headers, 'x-hub-signature-256'), req.body, secrets.appSecret)) throw webhookUnauthenticated('whatsapp', 'signature mismatch')
      const payload = parseWebhookJson(req.body) as {object?: unknown; entry?: unknown} | null
      if (!payload || typeof payload !== 'object' || !Array.isArray(payload.entry)) throw new OsmodaError('VALIDATION_FAILED', 'not a WhatsApp webhook payload', {details: ['entry: expected an array']})
      for (const entry of payload.entry as Array<{changes?: unknown}>) {
        for (const change of Array.isArray(entry?.changes) ? (entry.changes as CloudChange[]) : []) {
          if (change?.field !== 'messages' || !change.value || typeof change.value !== 'object') continue
          // A business account can hold several numbers; answer only the configured one.
          if (config.phoneNumberId && change.value.metadata?.phone_number_id !== config.phoneNumberId) continue
          for (const message of Array.isArray(change.value.messages) ? (change.value.messages as CloudMessage[]) : []) if (message && typeof message === 'object') accept(message)
        }
      }
      return {status: 200, json: {ok: true}}
    },

    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending])
    },
  }
}

/** X-Hub-Signature-256 = `sha256=` + hex HMAC-SHA256(app secret, raw body), compared in constant time. */
export function signatureValid(header: string | undefined, body: Buffer, appSecret: string | null): boolean {
  if (appSecret === null || header === undefined) return false
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header.trim())
  if (!match) return false
  const expected = createHmac('sha256', appSecret).update(body).digest()
  return timingSafeEqual(Buffer.from(match[1]!.toLowerCase(), 'hex'), expected)
}
