import {agentdApi} from '../agentd/api.js'
import type {Db} from '../../lib/db/open.js'
import type {OsmodaPaths} from '../../lib/paths.js'
import {createClient} from '../../lib/rpc/client.js'
import {resolveToken} from '../../lib/tokens.js'
import type {Diagnostics} from './diagnostics.js'
import type {EventBus} from './events.js'

const CURSOR_KEY = 'ledger_cursor'
const RETRY_MS = 2000
// What the gateway wrote itself is already on the stream in its own category.
const OWN_TYPES = /^(config\.agents_changed|credential\.|session\.reset|agent\.|daemon\.(started|stopped)$)/

/** Whether a ledger event is the gateway's own (not relayed). */
export function ownLedgerEvent(event: {type: string; actor: string; payload: Record<string, unknown>}): boolean {
  if (event.actor === 'gateway') return true
  if (OWN_TYPES.test(event.type)) return event.type.startsWith('daemon.') ? event.payload.daemon === 'gateway' : true
  return false
}

/**
 * Relays agentd's ledger follow stream into the event plane (category `ledger`, data `{ledger_seq,
 * actor, payload}`), resuming after the last relayed seq (kept in gateway.db) across restarts of
 * either daemon; the first start begins at the ledger's head.
 */
export function startLedgerRelay(deps: {paths: OsmodaPaths; db: Db; events: EventBus; diagnostics: Diagnostics; signal: AbortSignal}): Promise<void> {
  const get = deps.db.prepare('SELECT value FROM kv WHERE key = ?')
  const set = deps.db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
  const loop = async () => {
    let away = false
    while (!deps.signal.aborted) {
      const client = createClient('agentd', agentdApi, {socketPath: deps.paths.socket('agentd'), token: resolveToken(deps.paths), headers: {'x-osmoda-operator': 'daemon:gateway'}})
      try {
        const stored = (get.get(CURSOR_KEY) as {value: string} | undefined)?.value
        const after = stored === undefined ? (await client.ledgerStatus(undefined, {signal: deps.signal})).size : Number(stored)
        if (away) deps.diagnostics.record({level: 'info', kind: 'daemon', message: 'agentd ledger stream reconnected', data: {after}})
        away = false
        for await (const item of client.follow('eventsLog', {after}, {signal: deps.signal})) {
          const event = item as {seq?: number; type: string; actor: string; payload: Record<string, unknown>; keepalive?: boolean}
          if (event.keepalive || typeof event.seq !== 'number') continue
          if (!ownLedgerEvent(event)) deps.events.emit({category: 'ledger', type: event.type, data: {ledger_seq: event.seq, actor: event.actor, payload: event.payload}})
          set.run(CURSOR_KEY, String(event.seq))
        }
      } catch (error) {
        if (deps.signal.aborted) break
        if (!away) deps.diagnostics.record({level: 'warn', kind: 'daemon', message: `agentd ledger stream unavailable: ${(error as Error).message}`})
        away = true
      } finally {
        client.close()
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RETRY_MS)
        deps.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), {once: true})
      })
    }
  }
  return loop()
}
