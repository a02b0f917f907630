import {describe, expect, it} from 'vitest'
import {normaliseHost, parseConnectTarget} from './decision.js'

describe('CONNECT target parsing and host normalisation', () => {
  it.each([
    ['github.com:443', {host: 'github.com', port: 443}],
    ['[::1]:8443', {host: '[::1]', port: 8443}],
    ['a.b:1', {host: 'a.b', port: 1}],
  ])('parses %s', (text, want) => {
    expect(parseConnectTarget(text)).toEqual(want)
  })

  it.each(['github.com', 'github.com:0', 'github.com:65536', 'http://github.com:443', 'user@github.com:443', 'github.com:443/x', '/:443', 'github.com :443', '[::1:443', ':443'])('refuses %s', (text) => {
    expect(parseConnectTarget(text)).toBeNull()
  })

  it.each([
    ['GitHub.COM', 'github.com'],
    ['github.com.', 'github.com'],
    ['b%C3%BCcher.example', 'xn--bcher-kva.example'],
    ['%E2%98%83.net', 'xn--n3h.net'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['127.0.0.1', '127.0.0.1'],
    ['[::FFFF:127.0.0.1]', '::ffff:127.0.0.1'],
  ])('normalises %s to %s', (raw, want) => {
    expect(normaliseHost(raw)?.host).toBe(want)
  })

  it('marks literals with their bytes and names without', () => {
    expect(Array.from(normaliseHost('10.0.0.1')?.literal ?? [])).toEqual([10, 0, 0, 1])
    expect(normaliseHost('[::1]')?.literal?.length).toBe(16)
    expect(normaliseHost('example.com')?.literal).toBeNull()
  })

  it.each(['127.1', '0x7f.0.0.1', '2130706433', '1.2.3.4.5', 'a..b', '-a.example', 'a_b.example', '%ZZ', '%00.example', 'a b', '[1.2.3.4]', '[zz::1]', `${'a'.repeat(64)}.example`])('refuses %s', (raw) => {
    expect(normaliseHost(raw)).toBeNull()
  })
})
