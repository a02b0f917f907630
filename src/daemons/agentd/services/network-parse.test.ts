import {describe, expect, it} from 'vitest'
import {parseIpAddrJson, parseIpRouteJson, parseProcIpv6Route, parseProcRoute, parseResolvConf} from './network-parse.js'

// Captured on a Debian 12 host (iproute2 6.1), trimmed.
const IP_ADDR = JSON.stringify([
  {ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP'], mtu: 65536, operstate: 'UNKNOWN', address: '00:00:00:00:00:00', addr_info: [{family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host'}, {family: 'inet6', local: '::1', prefixlen: 128, scope: 'host'}]},
  {ifindex: 2, ifname: 'eth0', mtu: 1500, addr_info: [{family: 'inet', local: '192.0.2.2', prefixlen: 24}, {family: 'inet6', local: 'fd00::2', prefixlen: 64}]},
  {ifindex: 3, ifname: 'ifb0', mtu: 1500, addr_info: []},
])

const IP_ROUTE_4 = '[{"dst":"default","gateway":"192.0.2.1","dev":"eth0","flags":[]},{"dst":"192.0.2.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"192.0.2.2","flags":[]}]'
const IP_ROUTE_6 = '[{"dst":"fd00::/64","dev":"eth0","protocol":"kernel","metric":256,"flags":[],"pref":"medium"},{"dst":"default","gateway":"fd00::1","dev":"eth0","metric":1024,"flags":[],"pref":"medium"}]'

const PROC_ROUTE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0
eth1\t0000A8C0\t00000000\t0000\t0\t0\t0\t0000FFFF\t0\t0\t0
`

const PROC_IPV6_ROUTE = `fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000002 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000003 00000000 00000003     eth0
00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo
ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000003 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
`

describe('parseIpAddrJson', () => {
  it('gives each interface its addresses in CIDR notation', () => {
    const byName = parseIpAddrJson(IP_ADDR)
    expect(Object.fromEntries(byName)).toEqual({lo: ['127.0.0.1/8', '::1/128'], eth0: ['192.0.2.2/24', 'fd00::2/64'], ifb0: []})
  })

  it('is empty for a non-list', () => {
    expect(parseIpAddrJson('{}').size).toBe(0)
  })
})

describe('parseIpRouteJson', () => {
  it('reads both families; a missing metric is 0', () => {
    expect([...parseIpRouteJson(IP_ROUTE_4), ...parseIpRouteJson(IP_ROUTE_6)]).toEqual([
      {dst: 'default', gateway: '192.0.2.1', dev: 'eth0', metric: 0},
      {dst: '192.0.2.0/24', gateway: null, dev: 'eth0', metric: 0},
      {dst: 'fd00::/64', gateway: null, dev: 'eth0', metric: 256},
      {dst: 'default', gateway: 'fd00::1', dev: 'eth0', metric: 1024},
    ])
  })
})

describe('parseProcRoute', () => {
  it('decodes little-endian addresses and masks, skipping routes that are down', () => {
    expect(parseProcRoute(PROC_ROUTE, 'LE')).toEqual([
      {dst: 'default', gateway: '192.0.2.1', dev: 'eth0', metric: 0},
      {dst: '192.0.2.0/24', gateway: null, dev: 'eth0', metric: 100},
    ])
  })
})

describe('parseProcIpv6Route', () => {
  it('keeps main-table routes and skips local, reject and multicast ones', () => {
    expect(parseProcIpv6Route(PROC_IPV6_ROUTE)).toEqual([
      {dst: 'fd00::/64', gateway: null, dev: 'eth0', metric: 256},
      {dst: 'fe80::/64', gateway: null, dev: 'eth0', metric: 256},
      {dst: 'default', gateway: 'fd00::1', dev: 'eth0', metric: 1024},
    ])
  })
})

describe('parseResolvConf', () => {
  it('reads name servers and the last search line, ignoring comments', () => {
    const text = '# generated\nnameserver 10.0.0.53\nnameserver 2001:db8::53 ; secondary\ndomain old.example\nsearch corp.example lab.example\noptions edns0\n'
    expect(parseResolvConf(text)).toEqual({servers: ['10.0.0.53', '2001:db8::53'], search: ['corp.example', 'lab.example']})
  })

  it('is empty for an empty file', () => {
    expect(parseResolvConf('')).toEqual({servers: [], search: []})
  })
})
