import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {openDatabase} from '../../../lib/db/open.js'
import {createClient} from '../../../lib/rpc/client.js'
import {resolveToken} from '../../../lib/tokens.js'
import {safetyApi} from '../../agentd/safety/api.js'
import type {Logger} from '../../../lib/log.js'
import type {Diagnostics} from '../diagnostics.js'
import type {ExtensionFactory, ExtensionResponse, ExtensionRoute, GatewayServices} from '../extension.js'
import type {SafetyCalls} from './commands.js'
import {createGatewayDispatcher} from './gateway-dispatcher.js'
import {createChannels} from './service.js'
import {createChannelStore} from './store.js'
import {WEBHOOK_MAX_BODY, type WebhookResponse} from './webhook-http.js'

/** How long shutdown waits for replies that are still being delivered. */
const SHUTDOWN_REPLY_GRACE_MS = 5000

/** The package's own skills (`skills/` at the repository root, beside src/ and dist/). */
const PACKAGE_SKILLS = fileURLToPath(new URL('../../../../skills/', import.meta.url))

/** agentd's safety routes with the operator token, as `daemon:gateway`. */
function agentdSafety(services: GatewayServices): SafetyCalls {
  const call = async <T>(fn: (client: ReturnType<typeof createClient<typeof safetyApi>>) => Promise<T>): Promise<T> => {
    const client = createClient('agentd', safetyApi, {socketPath: services.paths.socket('agentd'), token: resolveToken(services.paths), headers: {'x-osmoda-operator': 'daemon:gateway'}})
    try {
      return await fn(client)
    } finally {
      client.close()
    }
  }
  return {
    rollback: ({reason}) => call((c) => c.safetyRollback({reason})),
    panic: ({reason}) => call((c) => c.safetyPanic({reason})),
    restart: () => call((c) => c.safetyRestart()),
  }
}

/** Channel warnings and errors go to the diagnostics ring (SPEC §2.10), which mirrors them to the log. */
function diagnosticLogger(log: Logger, diagnostics: Diagnostics, fields: Record<string, unknown> = {}): Logger {
  const record = (level: 'warn' | 'error') => (message: string, data: Record<string, unknown> = {}) => {
    const plain = Object.fromEntries(Object.entries({...fields, ...data}).map(([k, v]) => [k, v instanceof Error ? v.message : v]))
    diagnostics.record({level, kind: 'channel', message, data: plain})
  }
  return {
    debug: (message, data) => log.debug(message, {...fields, ...data}),
    info: (message, data) => log.info(message, {...fields, ...data}),
    warn: record('warn'),
    error: record('error'),
    child: (more) => diagnosticLogger(log, diagnostics, {...fields, ...more}),
  }
}

function toExtensionResponse(answer: WebhookResponse): ExtensionResponse {
  if ('text' in answer) return {status: answer.status, headers: {'content-type': 'text/plain; charset=utf-8'}, body: answer.text}
  return {status: answer.status, body: answer.json}
}

/**
 * Telegram and WhatsApp as a gateway extension: POST /telegram/webhook, GET+POST
 * /whatsapp/webhook (their own secrets), and the Telegram long-poll loop in polling mode.
 */
export const channelsExtension: ExtensionFactory = (services) => {
  const config = services.config().channels
  // gateway.db is migrated by the gateway (CHANNELS_MIGRATION is in its list); WAL lets this
  // second connection write beside the gateway's own.
  const db = openDatabase(join(services.paths.daemonStateDir('gateway'), 'gateway.db'))
  const dispatcher = createGatewayDispatcher(services)
  const channels = createChannels({
    config,
    dispatcher,
    store: createChannelStore(db),
    ledger: services.ledger,
    log: diagnosticLogger(services.log.child({component: 'channels'}), services.diagnostics),
    safety: agentdSafety(services),
    skillDirs: [join(services.paths.stateDir, 'skills'), PACKAGE_SKILLS],
  })
  const routes: ExtensionRoute[] = channels.routes.map((route) => ({
    method: route.method,
    path: route.path,
    auth: 'webhook',
    maxBodyBytes: WEBHOOK_MAX_BODY,
    handle: (req, rawBody, ctx) => toExtensionResponse(route.handle({method: req.method ?? route.method, headers: req.headers, query: ctx.query, body: rawBody})),
  }))
  return {
    name: 'channels',
    routes,
    async start(_services, signal) {
      try {
        await channels.start(signal)
        if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), {once: true}))
        // Replies still in flight get a moment; a provider that does not answer must not hold the shutdown.
        await Promise.race([channels.idle(), new Promise((resolve) => setTimeout(resolve, SHUTDOWN_REPLY_GRACE_MS).unref())])
      } finally {
        dispatcher.close()
        db.close()
      }
    },
  }
}
