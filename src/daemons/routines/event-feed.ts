import {OsmodaError} from '../../lib/errors.js'
import type {Logger} from '../../lib/log.js'
import type {AgentdClient} from './actions/context.js'
import type {LedgerEventLike} from './event-match.js'
import type {RoutinesStore} from './store.js'

const CURSOR_KEY = 'event_cursor'
const RETRY_MS = 1000

/**
 * Follows agentd's ledger stream (GET /events/log?follow=1) and hands each event to `onEvent`,
 * keeping the last processed seq in routines.db: after a restart of either daemon it resumes right
 * after that seq, so no event is missed or handled twice. The first start begins at the current head.
 */
export function startEventFeed(deps: {agentd: () => AgentdClient; store: RoutinesStore; log: Logger; signal: AbortSignal; onEvent: (event: LedgerEventLike) => void; onState?: (connected: boolean) => void; onError?: (error: unknown) => void}): Promise<void> {
  const loop = async () => {
    let away = false
    while (!deps.signal.aborted) {
      try {
        let after = Number(deps.store.get(CURSOR_KEY) ?? NaN)
        if (!Number.isInteger(after)) {
          after = (await deps.agentd().ledgerStatus(undefined, {signal: deps.signal})).size
          deps.store.set(CURSOR_KEY, String(after))
        }
        deps.onState?.(true)
        if (away) deps.log.info('ledger stream reconnected', {after})
        away = false
        for await (const item of deps.agentd().follow('eventsLog', {after}, {signal: deps.signal})) {
          const event = item as LedgerEventLike & {keepalive?: boolean}
          if (event.keepalive || typeof event.seq !== 'number') continue
          try {
            deps.onEvent(event)
          } catch (error) {
            deps.log.error('event routine dispatch failed', {seq: event.seq, error: (error as Error).message})
          }
          deps.store.set(CURSOR_KEY, String(event.seq))
        }
      } catch (error) {
        if (deps.signal.aborted) break
        deps.onError?.(error)
        if (!away) deps.log.warn('ledger stream lost; retrying every second', {error: (error as OsmodaError).code ?? (error as Error).message})
      }
      away = true
      deps.onState?.(false)
      if (deps.signal.aborted) break
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RETRY_MS)
        deps.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), {once: true})
      })
    }
  }
  return loop()
}
