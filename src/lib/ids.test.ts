import {describe, expect, it} from 'vitest'
import {createIdGenerator, createUlidGenerator, prefixedIdRe, ULID_RE, ulidTime} from './ids.js'

describe('ULIDs', () => {
  it('are 26 Crockford base32 characters that encode the time', () => {
    // Given a generator with a fixed clock
    const ulid = createUlidGenerator({clock: () => 1_732_579_200_123})
    // When an id is made
    const id = ulid()
    // Then it has the ULID shape and decodes back to the clock value
    expect(id).toMatch(ULID_RE)
    expect(id).toHaveLength(26)
    expect(ulidTime(id)).toBe(1_732_579_200_123)
  })

  it('match the ULID spec test vector for the time part', () => {
    // Given the spec's example time 1469918176385 → 01ARYZ6S41
    const ulid = createUlidGenerator({clock: () => 1_469_918_176_385, random: () => Buffer.alloc(10)})
    // Then the time part and an all-zero random part encode as expected
    expect(ulid()).toBe('01ARYZ6S41' + '0'.repeat(16))
  })

  it('are monotonic within one millisecond, also across a random-part carry', () => {
    // Given a frozen clock and a random part one step below a byte carry
    const start = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe])
    const ulid = createUlidGenerator({clock: () => 1000, random: () => Buffer.from(start)})
    // When several ids are made in the same ms
    const ids = Array.from({length: 5}, () => ulid())
    // Then each is strictly greater than the one before
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(5)
    // 0xfffe + 2 = 0x10000 = 2 × 32³ → "2000"
    expect(ids[2]?.slice(10)).toBe('0'.repeat(12) + '2000')
  })

  it('stay sorted when the clock steps back', () => {
    let now = 5000
    const ulid = createUlidGenerator({clock: () => now})
    const a = ulid()
    now = 4000
    const b = ulid()
    expect(b > a).toBe(true)
  })

  it('sort by time across milliseconds and are unique in bulk', () => {
    let now = 1
    const ulid = createUlidGenerator({clock: () => now++ / 3})
    const ids = Array.from({length: 3000}, () => ulid())
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('refuse times outside 48 bits', () => {
    expect(() => createUlidGenerator({clock: () => 2 ** 48})()).toThrow(RangeError)
    expect(() => createUlidGenerator({clock: () => -1})()).toThrow(RangeError)
  })
})

describe('prefixed ids', () => {
  it('are <prefix>_<ULID>', () => {
    const newId = createIdGenerator()
    const id = newId('bak')
    expect(id).toMatch(prefixedIdRe('bak'))
    expect(Math.abs(ulidTime(id) - Date.now())).toBeLessThan(5000)
  })

  it('refuse a malformed prefix', () => {
    expect(() => createIdGenerator()('BAK')).toThrow(RangeError)
    expect(() => createIdGenerator()('')).toThrow(RangeError)
  })
})
