import {describe, expect, it} from 'vitest'
import {createIpRateLimiter, createOncePerWindow, reconnectDelayMs} from './backoff.js'

const policy = {initialSecs: 1, factor: 2, maxSecs: 300, jitter: 0.2, resetAfterSecs: 60}

describe('reconnect back-off', () => {
  it('doubles from 1 s, caps at 300 s and spreads by ±20 %', () => {
    // Given no jitter (random = 0.5 is the midpoint)
    const mid = [0, 1, 2, 3, 8, 9, 20].map((n) => reconnectDelayMs(policy, n, () => 0.5))
    // Then the schedule is 1, 2, 4, 8, 256, 300 (capped), 300 s
    expect(mid).toEqual([1000, 2000, 4000, 8000, 256_000, 300_000, 300_000])
    // And the extremes of the jitter are ±20 %
    expect(reconnectDelayMs(policy, 3, () => 0)).toBe(6400)
    expect(reconnectDelayMs(policy, 3, () => 1)).toBe(9600)
  })
})

describe('per-IP token bucket', () => {
  it('allows perIpPerMinute handshakes per IP, refills over a minute and prunes full buckets', () => {
    // Given 3 per minute and a manual clock
    let t = 0
    const limiter = createIpRateLimiter(() => 3, () => t)
    // When one IP connects four times at once
    const burst = [1, 2, 3, 4].map(() => limiter.take('10.0.0.1'))
    // Then the fourth is refused while another IP is not affected
    expect(burst).toEqual([true, true, true, false])
    expect(limiter.take('10.0.0.2')).toBe(true)
    // And after 20 s one token is back
    t = 20_000
    expect(limiter.take('10.0.0.1')).toBe(true)
    expect(limiter.take('10.0.0.1')).toBe(false)
    // And after a quiet minute both buckets are full again and pruned
    t = 200_000
    limiter.prune()
    expect(limiter.size()).toBe(0)
  })

  it('lets one rejection event per IP through per minute', () => {
    let t = 0
    const once = createOncePerWindow(60_000, () => t)
    expect([once('a'), once('a'), once('b')]).toEqual([true, false, true])
    t = 59_999
    expect(once('a')).toBe(false)
    t = 60_000
    expect(once('a')).toBe(true)
  })
})
