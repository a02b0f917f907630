import {once} from 'node:events'
import {createServer, type AddressInfo, type Server} from 'node:net'
import {afterEach, describe, expect, it} from 'vitest'
import {requireTool} from '../../../../test/helpers/system-tool.js'
import {hostNetworkSources, readNetworkInfo} from './network.js'

let server: Server | null = null

afterEach(async () => {
  if (server) await new Promise<void>((resolve) => server?.close(() => resolve()))
  server = null
})

async function listen(): Promise<number> {
  server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return (server.address() as AddressInfo).port
}

const ip = requireTool('ip', 'apt-get install iproute2')

describe('readNetworkInfo on this host', () => {
  it.skipIf(ip.skip)('reports loopback with its address and a port this test listens on (with ip)', async () => {
    // Given a TCP server of ours on 127.0.0.1
    const port = await listen()
    // When every section is read with `ip` available
    const sources = await hostNetworkSources()
    expect(sources.ip).not.toBeNull()
    const info = await readNetworkInfo('all', sources)
    // Then loopback is there with 127.0.0.1/8, and our port is listed as ours
    const lo = info.interfaces?.find((i) => i.name === 'lo')
    expect(lo?.addresses).toContain('127.0.0.1/8')
    expect(lo?.mtu).toBeGreaterThan(0)
    expect(info.ports).toContainEqual({proto: 'tcp', address: '127.0.0.1', port, pid: process.pid, process: expect.any(String)})
    expect(Array.isArray(info.connections)).toBe(true)
    expect(Array.isArray(info.routes)).toBe(true)
    expect(info.dns).toEqual({servers: expect.any(Array), search: expect.any(Array)})
  })

  it('falls back to /proc and getifaddrs without ip', async () => {
    // Given the host's sources but no ip binary
    const port = await listen()
    const sources = {...(await hostNetworkSources()), ip: null}
    // When interfaces, ports and routes are read
    const [interfaces, ports, routes] = await Promise.all([readNetworkInfo('interfaces', sources), readNetworkInfo('ports', sources), readNetworkInfo('routes', sources)])
    // Then loopback still has its address, our port is there, and only the asked section is present
    expect(interfaces.interfaces?.find((i) => i.name === 'lo')?.addresses).toContain('127.0.0.1/8')
    expect(Object.keys(interfaces)).toEqual(['interfaces'])
    expect(ports.ports?.some((p) => p.port === port && p.pid === process.pid)).toBe(true)
    expect(Object.keys(routes)).toEqual(['routes'])
  })

  it.skipIf(ip.skip)('reads the same routes from ip as from /proc', async () => {
    // Given both sources of the main table
    const sources = await hostNetworkSources()
    const fromIp = (await readNetworkInfo('routes', sources)).routes ?? []
    const fromProc = (await readNetworkInfo('routes', {...sources, ip: null})).routes ?? []
    // Then they agree on destinations and gateways (ip omits a zero metric, /proc writes it)
    const key = (r: {dst: string; gateway: string | null; dev: string | null}) => `${r.dst} ${r.gateway} ${r.dev}`
    expect(fromProc.map(key).sort()).toEqual(fromIp.map(key).sort())
  })
})
