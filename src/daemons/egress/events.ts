import type {Ledger} from '../../lib/ledger/ledger.js'

/** Who a CONNECT came through. */
export type Listener = 'tcp' | 'unix'

/** `egress.allowed` payload (SPEC §2.9). */
export interface AllowedEvent {
  host: string
  port: number
  addresses: string[]
  token_id: string | null
  listener: Listener
}

/** `egress.denied` payload, before dedup adds `count`. */
export interface DeniedEvent {
  host: string
  port: number
  reason: string
  token_id: string | null
  listener: Listener
}

/** egress's ledger writer. */
export interface EgressEvents {
  allowed(event: AllowedEvent): void
  denied(event: DeniedEvent): void
  /** Writes the denials held back by dedup whose window has passed (all of them with `force`). */
  flush(force?: boolean): void
}

/**
 * Ledgers tunnels and denials. Denials of the same (host, reason, token_id) are written at most
 * once per window (SPEC §2.9: 10 s) with a `count` of the denials the event stands for, so a
 * sandbox hammering a refused host cannot flood the ledger.
 */
export function createEgressEvents(deps: {ledger: Ledger; now?: () => number; windowMs?: number}): EgressEvents {
  const now = deps.now ?? Date.now
  const windowMs = deps.windowMs ?? 10_000
  const recent = new Map<string, {writtenAt: number; held: number; last: DeniedEvent}>()
  const write = (event: DeniedEvent, count: number) => deps.ledger.append({type: 'egress.denied', actor: 'egress', payload: {...event, count}})

  const flush = (force = false) => {
    const t = now()
    for (const [key, entry] of recent) {
      if (!force && t - entry.writtenAt < windowMs) continue
      if (entry.held > 0) {
        write(entry.last, entry.held)
        entry.held = 0
        entry.writtenAt = t
      } else {
        recent.delete(key)
      }
    }
  }

  return {
    allowed: (event) => void deps.ledger.append({type: 'egress.allowed', actor: 'egress', payload: {...event}}),
    denied(event) {
      const key = JSON.stringify([event.host, event.reason, event.token_id])
      const entry = recent.get(key)
      const t = now()
      if (entry && t - entry.writtenAt < windowMs) {
        entry.held += 1
        entry.last = event
        return
      }
      write(event, 1 + (entry?.held ?? 0))
      recent.set(key, {writtenAt: t, held: 0, last: event})
    },
    flush,
  }
}
