import {describe, expect, it} from 'vitest'
import {splitMessage} from './split.js'

describe('splitMessage', () => {
  it('keeps a short text whole and drops empty input', () => {
    expect(splitMessage('  hello  ')).toEqual(['hello'])
    expect(splitMessage(' \n ')).toEqual([])
  })

  it('prefers a paragraph break, then a line break, then a space, then a hard cut', () => {
    expect(splitMessage('aaaa\n\nbb\ncc', 9)).toEqual(['aaaa', 'bb\ncc'])
    expect(splitMessage('aaaa\nbbbb\ncccc', 9)).toEqual(['aaaa\nbbbb', 'cccc'])
    expect(splitMessage('aaaa bbbb cccc', 9)).toEqual(['aaaa bbbb', 'cccc'])
    expect(splitMessage('abcdefghijkl', 5)).toEqual(['abcde', 'fghij', 'kl'])
  })

  it('never cuts a surrogate pair in half', () => {
    const parts = splitMessage(`abcd${'😀'.repeat(3)}`, 5)
    expect(parts.join('')).toBe(`abcd${'😀'.repeat(3)}`)
    expect(parts.every((p) => p.length <= 5 && !/[\ud800-\udbff]$/.test(p))).toBe(true)
  })

  it('every part of a 20 000-character reply fits in 4096', () => {
    const text = Array.from({length: 400}, (_, i) => `${i % 7 === 0 ? '\n' : ''}word${i} ${'y'.repeat(40)}`).join('\n')
    const parts = splitMessage(text)
    expect(parts.length).toBeGreaterThan(4)
    expect(parts.every((p) => p.length > 0 && p.length <= 4096)).toBe(true)
    expect(parts.join('').replace(/\s/g, '')).toBe(text.replace(/\s/g, ''))
  })
})
