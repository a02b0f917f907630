import type {Trigger} from './api.js'

/** The fields of a ledger event an event trigger looks at. */
export interface LedgerEventLike {
  seq: number
  type: string
  actor: string
  payload: Record<string, unknown>
}

/** Whether an event trigger matches a ledger event: type exact or `domain.*`, then actor and payload values. */
export function matchesEvent(trigger: Extract<Trigger, {type: 'event'}>, event: LedgerEventLike): boolean {
  const wanted = trigger.event_type
  const typeOk = wanted.endsWith('.*') ? event.type.startsWith(wanted.slice(0, -1)) : event.type === wanted
  if (!typeOk) return false
  if (trigger.match?.actor !== undefined && trigger.match.actor !== event.actor) return false
  for (const [key, value] of Object.entries(trigger.match?.payload ?? {})) {
    if (!Object.hasOwn(event.payload, key) || event.payload[key] !== value) return false
  }
  return true
}
