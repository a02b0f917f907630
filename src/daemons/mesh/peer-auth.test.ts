import {describe, expect, it} from 'vitest'
import {keepNewSession, RACE_WINDOW_MS} from './peer-auth.js'

const LOW = '0'.repeat(32)
const HIGH = 'f'.repeat(32)

describe('the simultaneous-dial rule', () => {
  it('keeps the lower instance_id\'s outbound session on both sides of a race', () => {
    // Given both nodes dialled at once: each has one session it initiated and one the other did
    const t = 1_000_000
    // On LOW: existing = its own outbound (initiator LOW), new = HIGH's → keep existing
    expect(keepNewSession(LOW, HIGH, {initiator: LOW, establishedAt: t}, HIGH, t + 5)).toBe(false)
    // On LOW, the other order: existing = HIGH's, new = its own → replace
    expect(keepNewSession(LOW, HIGH, {initiator: HIGH, establishedAt: t}, LOW, t + 5)).toBe(true)
    // On HIGH: the same session (initiated by LOW) survives whatever the order
    expect(keepNewSession(HIGH, LOW, {initiator: HIGH, establishedAt: t}, LOW, t + 5)).toBe(true)
    expect(keepNewSession(HIGH, LOW, {initiator: LOW, establishedAt: t}, HIGH, t + 5)).toBe(false)
  })

  it('lets a newer session replace an old one (the peer restarted) and a redial from the same side', () => {
    const t = 1_000_000
    expect(keepNewSession(LOW, HIGH, {initiator: LOW, establishedAt: t}, HIGH, t + RACE_WINDOW_MS + 1)).toBe(true)
    expect(keepNewSession(LOW, HIGH, {initiator: HIGH, establishedAt: t}, HIGH, t + 1)).toBe(true)
  })
})
