import {OsmodaError} from '../../../lib/errors.js'
import {type FetchLike, postJson} from './provider-http.js'

/** The subset of a Telegram Update the channel reads. */
export interface TelegramUpdate {
  update_id: number
  message?: {
    message_id: number
    from?: {id: number; is_bot?: boolean; first_name?: string; username?: string}
    chat: {id: number; type?: string}
    text?: string
  }
}

/** The Bot API methods the gateway uses. */
export interface TelegramApi {
  sendMessage(chatId: string, text: string): Promise<void>
  sendChatAction(chatId: string, action: 'typing'): Promise<void>
  getUpdates(input: {offset: number; timeoutSecs: number; signal?: AbortSignal}): Promise<TelegramUpdate[]>
  setWebhook(input: {url: string; secretToken: string}): Promise<void>
  deleteWebhook(): Promise<void>
  getWebhookInfo(): Promise<{url: string; pending_update_count: number; last_error_message?: string}>
}

/** A Bot API client at `baseUrl` (https://api.telegram.org, or a local server in tests). */
export function createTelegramApi(options: {baseUrl: string; botToken: string; fetch?: FetchLike}): TelegramApi {
  const fetchImpl = options.fetch ?? (globalThis.fetch as unknown as FetchLike)
  const base = options.baseUrl.replace(/\/+$/, '')

  const call = async <T>(method: string, body: Record<string, unknown>, extra: {timeoutMs?: number; signal?: AbortSignal} = {}): Promise<T> => {
    const {status, json} = await postJson(fetchImpl, `${base}/bot${options.botToken}/${method}`, body, {what: `Telegram ${method}`, ...extra})
    const answer = json as {ok?: boolean; result?: T; description?: string; parameters?: {retry_after?: number}} | null
    if (answer?.ok === true) return answer.result as T
    const description = typeof answer?.description === 'string' ? answer.description.slice(0, 200) : `HTTP ${status}`
    if (status === 429) throw new OsmodaError('RATE_LIMITED', `Telegram ${method}: ${description}`, {details: {retry_after_secs: answer?.parameters?.retry_after ?? 1}})
    if (status === 401 || status === 404) throw new OsmodaError('UPSTREAM_FAILED', `Telegram ${method}: ${description}`, {details: {status}, hint: 'check channels.telegram.botTokenFile'})
    throw new OsmodaError('UPSTREAM_FAILED', `Telegram ${method}: ${description}`, {details: {status}})
  }

  return {
    async sendMessage(chatId, text) {
      await withRetry(() => call('sendMessage', {chat_id: chatId, text, link_preview_options: {is_disabled: true}}))
    },
    async sendChatAction(chatId, action) {
      await call('sendChatAction', {chat_id: chatId, action})
    },
    getUpdates: ({offset, timeoutSecs, signal}) =>
      call<TelegramUpdate[]>('getUpdates', {offset, timeout: timeoutSecs, allowed_updates: ['message']}, {timeoutMs: (timeoutSecs + 15) * 1000, signal}),
    async setWebhook({url, secretToken}) {
      await call('setWebhook', {url, secret_token: secretToken, allowed_updates: ['message']})
    },
    async deleteWebhook() {
      await call('deleteWebhook', {})
    },
    getWebhookInfo: () => call('getWebhookInfo', {}),
  }
}

/** One retry after a 429 (honouring retry_after up to 30 s), a 5xx or a network failure (after 1 s). */
async function withRetry<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    if (!(error instanceof OsmodaError) || !isTransient(error)) throw error
    const after = error.code === 'RATE_LIMITED' ? Math.min(30, Number((error.details as {retry_after_secs?: number}).retry_after_secs) || 1) : 1
    await new Promise((resolve) => setTimeout(resolve, after * 1000))
    return fn()
  }
}

function isTransient(error: OsmodaError): boolean {
  if (error.code === 'RATE_LIMITED' || error.code === 'UPSTREAM_TIMEOUT') return true
  const status = (error.details as {status?: number} | undefined)?.status
  return error.code === 'UPSTREAM_FAILED' && (status === undefined || status >= 500)
}
