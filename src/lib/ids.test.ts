import {describe, expect, it} from 'vitest'
import {createUlidGenerator, isUlid, ulidTime} from './ids.js'

describe('ULIDs', () => {
  it('encodes the time and sorts monotonically within one millisecond', () => {
    // Given a generator on a frozen clock
    const next = createUlidGenerator(() => 1_764_000_000_123)
    // When many ids are made in the same millisecond
    const ids = Array.from({length: 1000}, () => next())
    // Then each is a ULID of that time, all distinct and in creation order
    expect(ids.every(isUlid)).toBe(true)
    expect(ulidTime(ids[0]!)).toBe(1_764_000_000_123)
    expect(new Set(ids).size).toBe(1000)
    expect([...ids].sort()).toEqual(ids)
  })

  it('sorts by time across milliseconds and survives a clock step back', () => {
    let now = 1000
    const next = createUlidGenerator(() => now)
    const a = next()
    now = 2000
    const b = next()
    now = 1500
    const c = next()
    expect(a < b && b < c).toBe(true)
    expect(ulidTime(c)).toBe(2000)
  })

  it('rejects malformed ids', () => {
    expect(isUlid('01ARZ3NDEKTSV4RRFFQ69G5FAV')).toBe(true)
    expect(isUlid('01ARZ3NDEKTSV4RRFFQ69G5FAU')).toBe(false)
    expect(isUlid('01arz3ndektsv4rrffq69g5fav')).toBe(false)
    expect(isUlid('81ARZ3NDEKTSV4RRFFQ69G5FAV')).toBe(false)
  })
})
