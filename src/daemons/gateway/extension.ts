import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Ledger} from '../../lib/ledger/ledger.js'
import type {Logger} from '../../lib/log.js'
import type {OsmodaPaths} from '../../lib/paths.js'
import type {RequestContext} from '../../lib/rpc/server.js'
import type {AgentsFile} from './agents-file.js'
import type {ChatFrame, ChatService} from './chat-types.js'
import type {GatewayConfig} from './config.js'
import type {Diagnostics} from './diagnostics.js'
import type {EventBus} from './events.js'

/**
 * What the gateway lends its extensions (channels, the web page): they submit chats and read the
 * stream like any other client, never touching the stores directly.
 */
export interface GatewayServices {
  paths: OsmodaPaths
  log: Logger
  ledger: Ledger
  /** The current config snapshot (replaced on reload). */
  config(): GatewayConfig
  /** The current agents.json snapshot. */
  agents(): AgentsFile
  events: EventBus
  chat: ChatService
  diagnostics: Diagnostics
}

/** Who may call an extension route: nobody checks (`public`), the route checks its own secret (`webhook`), or the operator token. */
export type ExtensionAuth = 'public' | 'webhook' | 'operator'

/** What an extension route answers (JSON bodies are serialised; strings and Buffers sent as is). */
export interface ExtensionResponse {
  status: number
  headers?: Record<string, string>
  body?: unknown
}

/** Context of one extension request. */
export interface ExtensionContext {
  /** `{param}` values of the route path, percent-decoded. */
  params: Record<string, string>
  query: URLSearchParams
  /** Set for `operator` routes. */
  caller: Omit<RequestContext, 'signal'> | null
  services: GatewayServices
  signal: AbortSignal
}

/** One extra HTTP route mounted on the gateway (webhooks, static pages). */
export interface ExtensionRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** `/telegram/webhook`, `/hooks/{routine_id}`; matched before the built-in routes. */
  path: string
  auth: ExtensionAuth
  /** Body limit (default 1 MiB); a larger body is 413 before `handle` runs. */
  maxBodyBytes?: number
  /**
   * Answers the request from the raw body (signatures are computed over it). Return a response, or
   * `'handled'` after writing to `res` yourself (streams). Throw OsmodaError for the error envelope.
   */
  handle(req: IncomingMessage, rawBody: Buffer, ctx: ExtensionContext, res: ServerResponse): Promise<ExtensionResponse | 'handled'> | ExtensionResponse | 'handled'
}

/** A gateway extension: routes plus an optional background task (e.g. Telegram long polling). */
export interface GatewayExtension {
  name: string
  routes?: ExtensionRoute[]
  /** Runs until `signal` aborts (the gateway stops); errors are logged, never fatal. */
  start?(services: GatewayServices, signal: AbortSignal): Promise<void> | void
}

/** Builds an extension from the services (called once at start). */
export type ExtensionFactory = (services: GatewayServices) => GatewayExtension | null

/** Re-exported for extensions that stream chat frames. */
export type {ChatFrame}
