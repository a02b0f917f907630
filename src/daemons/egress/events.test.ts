import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {openLedger, type Ledger} from '../../lib/ledger/ledger.js'
import {createEgressEvents} from './events.js'

let dir: string
let ledger: Ledger

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-egress-events-'))
  ledger = openLedger(join(dir, 'ledger.db'))
})
afterEach(() => {
  ledger.close()
  rmSync(dir, {recursive: true, force: true})
})

const denial = (over: Record<string, unknown> = {}) => ({host: 'evil.example', port: 443, reason: 'host_not_allowed', token_id: null, listener: 'tcp' as const, ...over})
const denied = () => ledger.query({type: 'egress.denied', limit: 100, order: 'asc'}).map((e) => [e.payload.host, e.payload.reason, e.payload.token_id, e.payload.count])

describe('egress denial events', () => {
  it('writes the first denial of a (host, reason, token) at once and the rest as one counted event per window', () => {
    let clock = 0
    const events = createEgressEvents({ledger, now: () => clock})
    // When the same denial repeats 4 times, and other keys interleave
    for (let i = 0; i < 4; i++) events.denied(denial())
    events.denied(denial({reason: 'port_not_allowed'}))
    events.denied(denial({token_id: 'cap_01JDQZ9V7C4Y3M2N1P0Q9R8S7T', listener: 'unix'}))
    // Then each key was written once
    expect(denied()).toEqual([
      ['evil.example', 'host_not_allowed', null, 1],
      ['evil.example', 'port_not_allowed', null, 1],
      ['evil.example', 'host_not_allowed', 'cap_01JDQZ9V7C4Y3M2N1P0Q9R8S7T', 1],
    ])
    // When the window has not passed, a flush writes nothing; once it has, the 3 held back are written with their count
    clock = 9_999
    events.flush()
    expect(denied()).toHaveLength(3)
    clock = 10_000
    events.flush()
    expect(denied().at(-1)).toEqual(['evil.example', 'host_not_allowed', null, 3])
    // And a later flush with nothing held forgets the key, so the next denial is written at once
    clock = 20_000
    events.flush()
    events.denied(denial())
    expect(denied().at(-1)).toEqual(['evil.example', 'host_not_allowed', null, 1])
  })

  it('writes what is held back when forced (daemon stop)', () => {
    const events = createEgressEvents({ledger, now: () => 0})
    events.denied(denial())
    events.denied(denial())
    events.flush(true)
    expect(denied()).toEqual([
      ['evil.example', 'host_not_allowed', null, 1],
      ['evil.example', 'host_not_allowed', null, 1],
    ])
  })
})
