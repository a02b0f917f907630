import {describe, expect, it} from 'vitest'
import {isTimeframe, parseRecallQuery, parseTimeframe, toFtsQuery} from './query.js'

describe('recall query parsing', () => {
  it.each([
    ['nginx restart', '"nginx" OR "restart"'],
    ['"disk full" nginx', '"disk full" OR "nginx"'],
    ['restart* postgres', '"restart"* OR "postgres"'],
    ['error_code v1.2-beta', '"error_code" OR "v1.2-beta"'],
    ['nginx AND NOT (apache) OR col:x NEAR/3', '"nginx" OR "AND" OR "NOT" OR "apache" OR "OR" OR "col" OR "x" OR "NEAR" OR "3"'],
    ['"unclosed phrase', '"unclosed" OR "phrase"'],
    ['"a "" b" c^d', '"a" OR "b" OR "c" OR "d"'],
    ['überwachung 日本', '"überwachung" OR "日本"'],
  ])('%s → %s', (query, fts) => {
    expect(toFtsQuery(parseRecallQuery(query))).toBe(fts)
  })

  it.each(['', '   ', '*** ---', '"" ""', '!!! ^^^', '. - _'])('refuses %j with a hint', (query) => {
    expect(() => parseRecallQuery(query)).toThrow(expect.objectContaining({code: 'VALIDATION_FAILED', hint: expect.stringContaining('phrases')}))
  })
})

describe('timeframes', () => {
  const now = Date.parse('2026-11-25T12:00:00.000Z')
  it.each([
    ['24h', {fromMs: now - 86_400_000, toMs: Number.MAX_SAFE_INTEGER}],
    ['30m', {fromMs: now - 1_800_000, toMs: Number.MAX_SAFE_INTEGER}],
    ['7d', {fromMs: now - 7 * 86_400_000, toMs: Number.MAX_SAFE_INTEGER}],
    ['2026', {fromMs: Date.parse('2026-01-01T00:00:00Z'), toMs: Date.parse('2027-01-01T00:00:00Z')}],
    ['2026-02', {fromMs: Date.parse('2026-02-01T00:00:00Z'), toMs: Date.parse('2026-03-01T00:00:00Z')}],
    ['2026-12-31', {fromMs: Date.parse('2026-12-31T00:00:00Z'), toMs: Date.parse('2027-01-01T00:00:00Z')}],
    ['2026-11-25T10:00:00+02:00', {fromMs: Date.parse('2026-11-25T08:00:00Z'), toMs: Number.MAX_SAFE_INTEGER}],
    ['999999999999w', {fromMs: 0, toMs: Number.MAX_SAFE_INTEGER}],
  ])('%s', (text, window) => {
    expect(parseTimeframe(text, now)).toEqual(window)
    expect(isTimeframe(text)).toBe(true)
  })

  it.each(['0h', '5y', '2026-13', '2026-02-30', 'yesterday', '2026-11-25T10:00:00', '-1d', '1.5h'])('refuses %s', (text) => {
    expect(isTimeframe(text)).toBe(false)
  })
})
