import {describe, expect, it} from 'vitest'
import {isRefusedAddress, parseCidr, parseIp} from './cidr.js'

const refused = (ip: string, allow: string[] = []) => {
  const bytes = parseIp(ip)
  if (!bytes) throw new Error(`test address ${ip} does not parse`)
  return isRefusedAddress(bytes, allow.map(parseCidr))
}

describe('address vetting (SPEC §2.9 step 5)', () => {
  const table: [string, boolean][] = [
    ['8.8.8.8', false],
    ['1.1.1.1', false],
    ['0.1.2.3', true],
    ['10.0.0.1', true],
    ['100.64.0.1', true],
    ['100.127.255.255', true],
    ['100.128.0.1', false],
    ['127.0.0.1', true],
    ['127.255.255.254', true],
    ['169.254.169.254', true],
    ['172.15.255.255', false],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['172.32.0.1', false],
    ['192.0.0.8', true],
    ['192.0.2.1', true],
    ['192.168.1.1', true],
    ['198.18.0.1', true],
    ['198.19.255.255', true],
    ['198.20.0.1', false],
    ['198.51.100.7', true],
    ['203.0.113.9', true],
    ['224.0.0.1', true],
    ['239.255.255.250', true],
    ['240.0.0.1', true],
    ['255.255.255.255', true],
    ['::', true],
    ['::1', true],
    ['fc00::1', true],
    ['fd12:3456::1', true],
    ['fe80::1', true],
    ['febf::1', true],
    ['fec0::1', false],
    ['ff02::1', true],
    ['2606:4700::1111', false],
    // IPv4-mapped, NAT64 and 6to4 forms of refused IPv4 addresses
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['::ffff:10.1.2.3', true],
    ['::ffff:8.8.8.8', false],
    ['64:ff9b::127.0.0.1', true],
    ['64:ff9b::a9fe:a9fe', true],
    ['64:ff9b::8.8.8.8', false],
    ['64:ff9b:1::8.8.8.8', true],
    ['2002:7f00:1::1', true],
    ['2002:0808:0808::1', false],
    ['::127.0.0.1', true],
  ]
  it.each(table)('%s refused=%s', (ip, want) => {
    expect(refused(ip)).toBe(want)
  })

  it('lets allowPrivateCidrs open a range, also in its mapped and NAT64 forms, and nothing more', () => {
    // Given loopback opened
    const allow = ['127.0.0.0/8']
    // Then loopback passes in every spelling, and other refused ranges stay refused
    expect(refused('127.0.0.1', allow)).toBe(false)
    expect(refused('::ffff:127.0.0.1', allow)).toBe(false)
    expect(refused('64:ff9b::7f00:1', allow)).toBe(false)
    expect(refused('10.0.0.1', allow)).toBe(true)
    expect(refused('::1', allow)).toBe(true)
    expect(refused('::1', ['::1'])).toBe(false)
    expect(refused('192.168.7.9', ['192.168.7.0/24'])).toBe(false)
    expect(refused('192.168.8.9', ['192.168.7.0/24'])).toBe(true)
  })

  it('parses addresses and ranges strictly', () => {
    expect(parseIp('1.2.3')).toBeNull()
    expect(parseIp('example.com')).toBeNull()
    expect(parseIp('fe80::1%eth0')).toBeNull()
    expect(Array.from(parseIp('1:2::8') ?? [])).toEqual([0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8])
    expect(parseCidr('10.0.0.0/8').prefix).toBe(8)
    expect(parseCidr('::1').prefix).toBe(128)
    for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.0/-1', '10.0.0.0/8/8', '10.0.0.0/', 'x/8', '10.0.0.0/08a']) {
      expect(() => parseCidr(bad), bad).toThrow()
    }
  })
})
