import {createServer, type IncomingMessage, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'

/** One call a fake provider received. */
export interface ProviderCall {
  path: string
  method: string
  authorization: string | undefined
  body: any
}

/**
 * A local HTTP server speaking the subset of the Telegram Bot API (`/bot<token>/<method>`) and the
 * WhatsApp Graph API (`/<version>/<phone id>/messages`) the gateway uses. It records every call,
 * serves queued updates to getUpdates (long-polling like Telegram) and checks the bot token and
 * the Graph access token like the real services.
 */
export async function startFakeProviders(options: {botToken: string; accessToken: string; phoneNumberId: string; graphVersion?: string}) {
  const calls: ProviderCall[] = []
  const updates: any[] = []
  const waiters = new Set<() => void>()
  let webhook = {url: '', secret_token: ''}
  const graphPath = `/${options.graphVersion ?? 'v21.0'}/${options.phoneNumberId}/messages`

  const notify = () => {
    for (const wake of [...waiters]) wake()
  }

  const readBody = async (req: IncomingMessage) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    return text === '' ? {} : JSON.parse(text)
  }

  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req)
    const path = req.url ?? '/'
    calls.push({path, method: req.method ?? '', authorization: req.headers.authorization, body})
    notify()
    const answer = (status: number, json: unknown) => {
      res.writeHead(status, {'content-type': 'application/json'})
      res.end(JSON.stringify(json))
    }
    const bot = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(path)
    if (bot) {
      if (bot[1] !== options.botToken) return answer(401, {ok: false, error_code: 401, description: 'Unauthorized'})
      const method = bot[2]
      if (method === 'sendMessage') {
        if (typeof body.text !== 'string' || body.text.length === 0 || body.text.length > 4096) return answer(400, {ok: false, description: 'Bad Request: message is too long'})
        return answer(200, {ok: true, result: {message_id: calls.length, chat: {id: body.chat_id}, text: body.text}})
      }
      if (method === 'sendChatAction') return answer(200, {ok: true, result: true})
      if (method === 'setWebhook') {
        webhook = {url: body.url, secret_token: body.secret_token}
        return answer(200, {ok: true, result: true, description: 'Webhook was set'})
      }
      if (method === 'deleteWebhook') {
        webhook = {url: '', secret_token: ''}
        return answer(200, {ok: true, result: true})
      }
      if (method === 'getWebhookInfo') return answer(200, {ok: true, result: {url: webhook.url, pending_update_count: updates.length}})
      if (method === 'getUpdates') {
        const offset = Number(body.offset ?? 0)
        const deadline = Date.now() + Number(body.timeout ?? 0) * 1000
        for (;;) {
          const ready = updates.filter((u) => u.update_id >= offset)
          if (ready.length > 0 || Date.now() >= deadline || res.destroyed) return answer(200, {ok: true, result: ready})
          await new Promise<void>((resolve) => {
            const wake = () => {
              waiters.delete(wake)
              clearTimeout(timer)
              resolve()
            }
            const timer = setTimeout(wake, Math.max(1, deadline - Date.now()))
            waiters.add(wake)
          })
        }
      }
      return answer(404, {ok: false, description: 'Not Found'})
    }
    if (path === graphPath && req.method === 'POST') {
      if (req.headers.authorization !== `Bearer ${options.accessToken}`) return answer(401, {error: {message: 'Invalid OAuth access token', code: 190}})
      if (body.messaging_product !== 'whatsapp' || typeof body.text?.body !== 'string' || body.text.body.length > 4096) return answer(400, {error: {message: 'bad message', code: 100}})
      return answer(200, {messaging_product: 'whatsapp', contacts: [{input: body.to, wa_id: body.to}], messages: [{id: `wamid.out${calls.length}`}]})
    }
    return answer(404, {error: {message: 'unknown path'}})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    baseUrl,
    calls,
    get webhook() {
      return webhook
    },
    /** Calls of one Bot API method, or to the Graph messages endpoint with 'whatsapp'. */
    sent(kind: 'sendMessage' | 'sendChatAction' | 'getUpdates' | 'setWebhook' | 'whatsapp') {
      return calls.filter((c) => (kind === 'whatsapp' ? c.path === graphPath : c.path.endsWith(`/${kind}`)))
    },
    /** Queues an update for getUpdates. */
    pushUpdate(update: any) {
      updates.push(update)
      notify()
    },
    /** Waits until `predicate` holds (checked on every call), or fails after `timeoutMs`. */
    async waitFor(predicate: () => boolean, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`fake providers: condition not met within ${timeoutMs} ms; calls: ${JSON.stringify(calls.map((c) => c.path))}`)
        await new Promise((r) => setTimeout(r, 10))
      }
    },
    async close() {
      notify()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** The fake providers returned by startFakeProviders. */
export type FakeProviders = Awaited<ReturnType<typeof startFakeProviders>>
