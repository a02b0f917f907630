import {createSocket} from 'node:dgram'
import type {Socket as UdpSocket} from 'node:dgram'
import {once} from 'node:events'
import {mkdir, mkdtemp, rm, symlink, writeFile} from 'node:fs/promises'
import {endianness, tmpdir} from 'node:os'
import {join} from 'node:path'
import {connect, createServer} from 'node:net'
import type {AddressInfo, Server} from 'node:net'
import {afterEach, describe, expect, it} from 'vitest'
import {decodeHexAddress, formatEndpoint, formatIpv6, isListening, listConnections, listListeningPorts, parseProcNet} from './sockets.js'

// Hand-written lines in the kernel's little-endian layout.
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0000000000000000 100 0 0 10 0
   1: 0F02000A:0016 6400A8C0:D431 01 00000000:00000000 02:000A7B3F 00000000     0        0 2222 4 0000000000000000 20 4 29 10 -1
   2: 0100007F:8AF2 0100007F:1F90 06 00000000:00000000 03:00000F80 00000000     0        0 0 3 0000000000000000
`
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3333 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 4444 1 0000000000000000 20 4 30 10 -1
   2: B80D0120000000000000000001000000:01BB 00000000000000000000000001000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5555 1 0000000000000000 100 0 0 10 0
`
const UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  100: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 6666 2 0000000000000000 0
  101: 00000000:0000 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 7777 2 0000000000000000 0
  102: 0100007F:E1D0 0100007F:0035 01 00000000:00000000 00:00000000 00000000     0        0 8888 2 0000000000000000 0
`

describe('address decoding', () => {
  it.each([
    {hex: '0100007F', order: 'LE' as const, want: '127.0.0.1'},
    {hex: '00000000', order: 'LE' as const, want: '0.0.0.0'},
    {hex: '0F02000A', order: 'LE' as const, want: '10.0.2.15'},
    {hex: '7F000001', order: 'BE' as const, want: '127.0.0.1'},
    {hex: '00000000000000000000000000000000', order: 'LE' as const, want: '::'},
    {hex: '00000000000000000000000001000000', order: 'LE' as const, want: '::1'},
    {hex: '0000000000000000FFFF00000100007F', order: 'LE' as const, want: '::ffff:127.0.0.1'},
    {hex: 'B80D0120000000000000000001000000', order: 'LE' as const, want: '2001:db8::1'},
    {hex: '20010DB8000000000000000000000001', order: 'BE' as const, want: '2001:db8::1'},
    {hex: '000080FE00000000FF2CE15AFE7A8C12', order: 'LE' as const, want: 'fe80::5ae1:2cff:128c:7afe'},
  ])('decodes $hex ($order) as $want', ({hex, order, want}) => {
    expect(decodeHexAddress(hex, order)).toBe(want)
  })

  it('compresses the longest zero run, the first on a tie, and never a single zero group', () => {
    const bytes = (groups: number[]) => groups.flatMap((g) => [g >> 8, g & 0xff])
    expect(formatIpv6(bytes([1, 0, 0, 2, 0, 0, 0, 3]))).toBe('1:0:0:2::3')
    expect(formatIpv6(bytes([1, 0, 0, 2, 0, 0, 3, 4]))).toBe('1::2:0:0:3:4')
    expect(formatIpv6(bytes([1, 0, 2, 3, 4, 5, 6, 7]))).toBe('1:0:2:3:4:5:6:7')
  })

  it('brackets IPv6 endpoints', () => {
    expect(formatEndpoint('::1', 80)).toBe('[::1]:80')
    expect(formatEndpoint('10.0.0.1', 22)).toBe('10.0.0.1:22')
  })
})

describe('parseProcNet', () => {
  it('parses IPv4 TCP rows with states and inodes', () => {
    const rows = parseProcNet(TCP, 'tcp', 'LE')
    expect(rows).toEqual([
      {proto: 'tcp', family: 4, localAddress: '127.0.0.1', localPort: 8080, remoteAddress: '0.0.0.0', remotePort: 0, state: 'LISTEN', inode: 1111},
      {proto: 'tcp', family: 4, localAddress: '10.0.2.15', localPort: 22, remoteAddress: '192.168.0.100', remotePort: 54321, state: 'ESTABLISHED', inode: 2222},
      {proto: 'tcp', family: 4, localAddress: '127.0.0.1', localPort: 35570, remoteAddress: '127.0.0.1', remotePort: 8080, state: 'TIME_WAIT', inode: 0},
    ])
    expect(rows.map(isListening)).toEqual([true, false, false])
  })

  it('parses IPv6 TCP rows, including IPv4-mapped addresses', () => {
    const rows = parseProcNet(TCP6, 'tcp', 'LE')
    expect(rows.map((r) => [r.family, r.localAddress, r.localPort, r.remoteAddress, r.remotePort, r.state])).toEqual([
      [6, '::', 80, '::', 0, 'LISTEN'],
      [6, '::ffff:127.0.0.1', 8080, '::ffff:127.0.0.1', 50000, 'ESTABLISHED'],
      [6, '2001:db8::1', 443, '::1', 0, 'LISTEN'],
    ])
  })

  it('treats bound, unconnected UDP sockets with a port as listening', () => {
    const rows = parseProcNet(UDP, 'udp', 'LE')
    expect(rows.map((r) => [r.localAddress, r.localPort, r.state, isListening(r)])).toEqual([
      ['127.0.0.53', 53, 'UNCONN', true],
      ['0.0.0.0', 0, 'UNCONN', false],
      ['127.0.0.1', 57808, 'ESTABLISHED', false],
    ])
  })

  it('ignores the header, blank and short lines', () => {
    expect(parseProcNet('header\n\n  0: garbage\n', 'tcp', 'LE')).toEqual([])
  })
})

describe('owners over a fixture /proc', () => {
  it.skipIf(endianness() !== 'LE')('attributes a socket shared by a master and its workers to the master', async () => {
    // Given a master (10) and a worker (11, child of 10) holding the :8080 listener, and sshd (20) holding :22 on v6
    const proc = await mkdtemp(join(tmpdir(), 'osmoda-proc-'))
    try {
      await mkdir(join(proc, 'net'))
      await writeFile(join(proc, 'net', 'tcp'), TCP)
      await writeFile(join(proc, 'net', 'tcp6'), TCP6)
      await writeFile(join(proc, 'net', 'udp'), '')
      await writeFile(join(proc, 'net', 'udp6'), '')
      const proc_ = async (pid: number, ppid: number, name: string, sockets: number[]) => {
        await mkdir(join(proc, String(pid), 'fd'), {recursive: true})
        await writeFile(join(proc, String(pid), 'stat'), `${pid} (${name}) S ${ppid} ${pid} ${pid} 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 100 0 10 0 0\n`)
        await symlink('/dev/null', join(proc, String(pid), 'fd', '0'))
        for (const [i, inode] of sockets.entries()) await symlink(`socket:[${inode}]`, join(proc, String(pid), 'fd', String(i + 3)))
      }
      await proc_(11, 10, 'nginx', [1111])
      await proc_(10, 1, 'nginx', [1111])
      await proc_(20, 1, 'sshd', [3333, 2222])
      await mkdir(join(proc, '30'))
      // When listing listening ports
      const rows = await listListeningPorts(proc)
      // Then the master owns :8080, and unowned sockets have null owners
      expect(rows).toEqual([
        {proto: 'tcp', address: '::', port: 80, pid: 20, process: 'sshd'},
        {proto: 'tcp', address: '2001:db8::1', port: 443, pid: null, process: null},
        {proto: 'tcp', address: '127.0.0.1', port: 8080, pid: 10, process: 'nginx'},
      ])
      const connections = await listConnections({limit: 10, procRoot: proc})
      expect(connections[0]).toEqual({proto: 'tcp', local: '10.0.2.15:22', remote: '192.168.0.100:54321', state: 'ESTABLISHED', pid: 20, process: 'sshd'})
      expect(connections.map((c) => c.state)).toEqual(['ESTABLISHED', 'ESTABLISHED', 'TIME_WAIT'])
    } finally {
      await rm(proc, {recursive: true, force: true})
    }
  })
})

describe('live sockets', () => {
  const cleanups: (() => Promise<void> | void)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  async function listen(host: string, port = 0): Promise<Server> {
    const server = createServer((socket) => socket.on('error', () => {}))
    server.listen(port, host)
    await once(server, 'listening')
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
    return server
  }

  it('finds a TCP server of this process on IPv4 and IPv6 loopback', async () => {
    // Given servers on 127.0.0.1 and ::1
    const v4 = await listen('127.0.0.1')
    const port = (v4.address() as AddressInfo).port
    await listen('::1', port)
    // When listing listening ports
    const rows = (await listListeningPorts()).filter((row) => row.port === port)
    // Then both are there, owned by this process
    expect(rows).toEqual([
      {proto: 'tcp', address: '127.0.0.1', port, pid: process.pid, process: expect.any(String)},
      {proto: 'tcp', address: '::1', port, pid: process.pid, process: expect.any(String)},
    ])
  })

  it('finds a bound UDP socket', async () => {
    const udp: UdpSocket = createSocket('udp4')
    udp.bind(0, '127.0.0.1')
    await once(udp, 'listening')
    cleanups.push(() => new Promise<void>((resolve) => udp.close(() => resolve())))
    const port = udp.address().port
    const rows = (await listListeningPorts()).filter((row) => row.port === port && row.proto === 'udp')
    expect(rows).toEqual([{proto: 'udp', address: '127.0.0.1', port, pid: process.pid, process: expect.any(String)}])
  })

  it('lists an established connection with its owner', async () => {
    // Given a client connected to our own server
    const server = await listen('127.0.0.1')
    const port = (server.address() as AddressInfo).port
    const client = connect(port, '127.0.0.1')
    await once(client, 'connect')
    cleanups.push(() => void client.destroy())
    // When listing connections
    const rows = await listConnections({limit: 2000})
    // Then both ends are there, established, owned by this process
    const ends = rows.filter((row) => row.local === `127.0.0.1:${port}` || row.remote === `127.0.0.1:${port}`)
    expect(ends).toHaveLength(2)
    for (const end of ends) expect(end).toMatchObject({proto: 'tcp', state: 'ESTABLISHED', pid: process.pid})
  })

  it('honours the connections limit', async () => {
    expect((await listConnections({limit: 1})).length).toBeLessThanOrEqual(1)
  })
})
