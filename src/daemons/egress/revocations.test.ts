import {describe, expect, it} from 'vitest'
import {silentLogger} from '../../lib/log.js'
import {createRevocationPoller} from './revocations.js'

describe('revocation list poller (fail closed)', () => {
  it('is stale until the first fetch succeeds, fresh for 60 s after each success, stale again after that', async () => {
    // Given agentd that is down at first
    let clock = 0
    let up = false
    let list = [{token_id: 'cap_01JDQZ9V7C4Y3M2N1P0Q9R8S7T'}]
    const poller = createRevocationPoller({log: silentLogger, now: () => clock, fetch: async () => (up ? {revoked: list} : Promise.reject(new Error('ECONNREFUSED')))})
    // Then nothing is fresh and nothing is known revoked
    expect(await poller.refresh()).toBe(false)
    expect(poller.fresh()).toBe(false)
    // When agentd answers
    up = true
    expect(await poller.refresh()).toBe(true)
    expect(poller.fresh()).toBe(true)
    expect(poller.isRevoked('cap_01JDQZ9V7C4Y3M2N1P0Q9R8S7T')).toBe(true)
    // When it goes away again: still fresh at 60 s, stale after, and the last list is kept
    up = false
    clock = 60_000
    expect(await poller.refresh()).toBe(false)
    expect(poller.fresh()).toBe(true)
    clock = 60_001
    expect(poller.fresh()).toBe(false)
    expect(poller.isRevoked('cap_01JDQZ9V7C4Y3M2N1P0Q9R8S7T')).toBe(true)
    // When it is back with a shorter list (the token expired) / Then the list is replaced
    up = true
    list = []
    await poller.refresh()
    expect(poller.fresh()).toBe(true)
    expect(poller.isRevoked('cap_01JDQZ9V7C4Y3M2N1P0Q9R8S7T')).toBe(false)
  })

  it('polls on its interval until stopped', async () => {
    let calls = 0
    const stop = new AbortController()
    const poller = createRevocationPoller({log: silentLogger, intervalMs: 20, fetch: async () => (calls++, {revoked: []})})
    poller.start(stop.signal)
    await new Promise((r) => setTimeout(r, 110))
    stop.abort()
    const seen = calls
    expect(seen).toBeGreaterThanOrEqual(3)
    await new Promise((r) => setTimeout(r, 60))
    expect(calls).toBe(seen)
  })
})
