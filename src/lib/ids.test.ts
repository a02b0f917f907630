import {describe, expect, it} from 'vitest'
import {createUlidGenerator, ULID_RE, ulidTime} from './ids.js'

describe('createUlidGenerator', () => {
  it('makes 26-character Crockford base32 ids that carry their time', () => {
    // Given a fixed clock
    const ulid = createUlidGenerator({clock: () => 1_764_115_200_123})
    // When an id is made
    const id = ulid()
    // Then it has the ULID shape and decodes to that time
    expect(id).toMatch(ULID_RE)
    expect(id).toHaveLength(26)
    expect(ulidTime(id)).toBe(1_764_115_200_123)
  })

  it('encodes the spec example time', () => {
    // 1469918176385 ms is 01ARYZ6S41 in the ULID spec
    const ulid = createUlidGenerator({clock: () => 1_469_918_176_385})
    expect(ulid().slice(0, 10)).toBe('01ARYZ6S41')
  })

  it('is monotonic within one millisecond and when the clock steps back', () => {
    // Given a clock that stands still, then goes backwards
    const times = [1000, 1000, 1000, 999, 1001]
    const ulid = createUlidGenerator({clock: () => times.shift() ?? 1001})
    // When ids are made
    const ids = [ulid(), ulid(), ulid(), ulid(), ulid()]
    // Then they sort in creation order and are distinct
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(ids.length)
    expect(ulidTime(ids[3]!)).toBe(1000)
  })

  it('carries the increment across digits', () => {
    // Given randomness that is all ones in its last digit
    const random = () => Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0x1f])
    const ulid = createUlidGenerator({clock: () => 5, random})
    // When two ids are made in the same millisecond
    const a = ulid()
    const b = ulid()
    // Then the second's random part is one more, carried
    expect(a.slice(10)).toBe('000000000000000Z')
    expect(b.slice(10)).toBe('0000000000000010')
  })

  it('fails rather than wrapping when the random part is exhausted', () => {
    const ulid = createUlidGenerator({clock: () => 5, random: () => Buffer.alloc(10, 0xff)})
    ulid()
    expect(() => ulid()).toThrow(RangeError)
  })

  it('sorts by time across milliseconds', () => {
    let t = 0
    const ulid = createUlidGenerator({clock: () => (t += 7)})
    const ids = Array.from({length: 50}, () => ulid())
    expect([...ids].sort()).toEqual(ids)
  })

  it('refuses times outside 48 bits', () => {
    expect(() => createUlidGenerator({clock: () => -1})()).toThrow(RangeError)
    expect(() => createUlidGenerator({clock: () => 2 ** 48})()).toThrow(RangeError)
    expect(() => ulidTime('not-a-ulid')).toThrow(RangeError)
  })
})
