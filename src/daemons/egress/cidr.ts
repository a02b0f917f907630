import {isIPv4, isIPv6} from 'node:net'

/**
 * IP addresses and CIDR ranges as bytes, for egress's address vetting (SPEC §2.9 step 5). An IPv6
 * address that carries an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`,
 * 6to4 `2002:AABB:CCDD::`) is judged by the IPv4 address it reaches as well, so a refused IPv4
 * range cannot be reached by writing it in IPv6.
 */

/** An address: 4 or 16 bytes. */
export type IpBytes = Uint8Array

/** A range: network bytes and prefix length. */
export interface Cidr {
  bytes: IpBytes
  prefix: number
  text: string
}

/** Parses an IPv4 or IPv6 address (no brackets, no zone); null when it is not one. */
export function parseIp(text: string): IpBytes | null {
  if (isIPv4(text)) return Uint8Array.from(text.split('.').map(Number))
  if (!isIPv6(text) || text.includes('%')) return null
  let head = text
  let tail4: number[] = []
  const lastColon = text.lastIndexOf(':')
  const last = text.slice(lastColon + 1)
  if (last.includes('.')) {
    tail4 = last.split('.').map(Number)
    head = `${text.slice(0, lastColon + 1)}0:0`
  }
  const [left = '', right] = head.split('::') as [string, string | undefined]
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)))
  const l = groups(left)
  const r = right === undefined ? [] : groups(right)
  const words = right === undefined ? l : [...l, ...Array<number>(8 - l.length - r.length).fill(0), ...r]
  if (words.length !== 8) return null
  const out = new Uint8Array(16)
  words.forEach((w, i) => {
    out[i * 2] = w >> 8
    out[i * 2 + 1] = w & 0xff
  })
  if (tail4.length === 4) out.set(tail4, 12)
  return out
}

/** Parses `addr/prefix` (a bare address is a host range); throws with a message on bad input. */
export function parseCidr(text: string): Cidr {
  const [addr = '', prefixText, extra] = text.split('/')
  const bytes = parseIp(addr)
  if (!bytes || extra !== undefined) throw new Error(`${JSON.stringify(text)} is not an IP address or CIDR range`)
  const max = bytes.length * 8
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN
  if (!(prefix >= 0 && prefix <= max)) throw new Error(`${JSON.stringify(text)}: prefix must be 0..${max}`)
  return {bytes, prefix, text}
}

function inRange(range: Cidr, addr: IpBytes): boolean {
  if (range.bytes.length !== addr.length) return false
  let bits = range.prefix
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff
    if (((range.bytes[i] as number) & mask) !== ((addr[i] as number) & mask)) return false
  }
  return true
}

const MAPPED = parseCidr('::ffff:0:0/96')
const NAT64 = parseCidr('64:ff9b::/96')
const SIX_TO_FOUR = parseCidr('2002::/16')

/** The IPv4 address an IPv6 address embeds (mapped, NAT64 well-known prefix, 6to4), if any. */
export function embeddedIpv4(addr: IpBytes): IpBytes | null {
  if (addr.length !== 16) return null
  if (inRange(MAPPED, addr) || inRange(NAT64, addr)) return addr.slice(12, 16)
  if (inRange(SIX_TO_FOUR, addr)) return addr.slice(2, 6)
  return null
}

/** True when the address, or the IPv4 address it embeds, lies in one of the ranges. */
export function matchesAny(ranges: readonly Cidr[], addr: IpBytes): boolean {
  const v4 = embeddedIpv4(addr)
  return ranges.some((range) => inRange(range, addr) || (v4 !== null && inRange(range, v4)))
}

/** Ranges egress never connects to unless `allowPrivateCidrs` opens them (SPEC §2.9 step 5). */
export const REFUSED_RANGES: readonly Cidr[] = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/128',
  '::1/128',
  // IPv4-compatible (deprecated) addresses embed an IPv4 address in the low 32 bits.
  '::/96',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
  // Local-use NAT64 prefixes may map to any IPv4 address, private ones included.
  '64:ff9b:1::/48',
].map(parseCidr)

/** Whether egress refuses to connect to `addr`: in a refused range and not opened by `allowed`. */
export function isRefusedAddress(addr: IpBytes, allowed: readonly Cidr[]): boolean {
  if (matchesAny(allowed, addr)) return false
  return matchesAny(REFUSED_RANGES, addr)
}
