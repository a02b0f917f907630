import {once} from 'node:events'
import {mkdtemp, rm} from 'node:fs/promises'
import {createServer} from 'node:net'
import type {AddressInfo, Server} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {detectService, discoverServices, healthUrl, osmodaDaemonFromCommand, parseOsmodaUnixSockets, systemdAvailable, unitFromCgroup} from './discover.js'

describe('unitFromCgroup', () => {
  it.each([
    {name: 'cgroup v2 service', text: '0::/system.slice/nginx.service\n', want: 'nginx.service'},
    {name: 'a sub-cgroup of a service', text: '0::/system.slice/docker.service/payload\n', want: 'docker.service'},
    {name: 'a user service', text: '0::/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service\n', want: 'foo.service'},
    {name: 'a session scope', text: '0::/user.slice/user-1000.slice/session-3.scope\n', want: 'session-3.scope'},
    {name: 'hybrid v1 with name=systemd', text: '12:pids:/\n1:name=systemd:/system.slice/sshd.service\n', want: 'sshd.service'},
    {name: 'no unit', text: '0::/\n', want: null},
    {name: 'a container cgroup', text: '4:memory:/process_api/abc\n0::/\n', want: null},
  ])('$name → $want', ({text, want}) => {
    expect(unitFromCgroup(text)).toBe(want)
  })
})

describe('detectService', () => {
  it.each([
    {name: 'nginx', command: 'nginx: master process /usr/sbin/nginx', proto: 'tcp' as const, port: 80, want: 'nginx'},
    {name: 'httpd', command: '/usr/sbin/httpd -DFOREGROUND', proto: 'tcp' as const, port: 80, want: 'apache'},
    {name: 'postgres', command: '/usr/lib/postgresql/16/bin/postgres -D /var/lib/pg', proto: 'tcp' as const, port: 5432, want: 'postgresql'},
    {name: 'mariadbd', command: '/usr/sbin/mariadbd', proto: 'tcp' as const, port: 3306, want: 'mysql'},
    {name: 'redis-server', command: 'redis-server *:6379', proto: 'tcp' as const, port: 6379, want: 'redis'},
    {name: 'sshd', command: 'sshd: /usr/sbin/sshd -D', proto: 'tcp' as const, port: 22, want: 'ssh'},
    {name: 'docker-proxy', command: '/usr/bin/docker-proxy -proto tcp', proto: 'tcp' as const, port: 8081, want: 'docker'},
    {name: 'cloudflared', command: 'cloudflared tunnel run', proto: 'tcp' as const, port: 20241, want: 'cloudflare-tunnel'},
    {name: 'tailscaled', command: '/usr/sbin/tailscaled', proto: 'udp' as const, port: 41641, want: 'tailscale'},
    {name: 'node', command: 'node server.js', proto: 'tcp' as const, port: 3000, want: 'node'},
    {name: 'python3.12', command: 'python3 -m http.server', proto: 'tcp' as const, port: 8000, want: 'python'},
    {name: 'node', command: 'node /nix/store/abc-osmoda-0.1.0/bin/run.js daemon gateway', proto: 'tcp' as const, port: 18789, want: 'osmoda-gateway'},
    {name: 'osmoda', command: '/usr/bin/osmoda daemon mesh', proto: 'tcp' as const, port: 18800, want: 'osmoda-mesh'},
    {name: null, command: null, proto: 'tcp' as const, port: 5432, want: 'postgresql'},
    {name: 'weird', command: 'weird', proto: 'tcp' as const, port: 12345, want: null},
  ])('$name on $proto/$port → $want', ({name, command, proto, port, want}) => {
    expect(detectService({name, command, proto, port})).toBe(want)
  })

  it('only reads `daemon <name>` from osmoda command lines', () => {
    expect(osmodaDaemonFromCommand('node app.js daemon worker')).toBeNull()
    expect(osmodaDaemonFromCommand('osmoda daemon agentd --verbose')).toBe('agentd')
  })
})

describe('healthUrl', () => {
  it.each([
    {detected: 'nginx', proto: 'tcp' as const, port: 80, addresses: ['0.0.0.0', '::'], want: 'http://127.0.0.1:80/'},
    {detected: 'node', proto: 'tcp' as const, port: 3000, addresses: ['::1'], want: 'http://[::1]:3000/'},
    {detected: null, proto: 'tcp' as const, port: 8080, addresses: ['10.0.0.5'], want: 'http://10.0.0.5:8080/'},
    {detected: 'osmoda-gateway', proto: 'tcp' as const, port: 18789, addresses: ['127.0.0.1'], want: 'http://127.0.0.1:18789/health'},
    {detected: 'nginx', proto: 'tcp' as const, port: 443, addresses: ['0.0.0.0'], want: null},
    {detected: 'ssh', proto: 'tcp' as const, port: 22, addresses: ['0.0.0.0'], want: null},
    {detected: 'postgresql', proto: 'tcp' as const, port: 5432, addresses: ['127.0.0.1'], want: null},
    {detected: 'node', proto: 'udp' as const, port: 3000, addresses: ['0.0.0.0'], want: null},
  ])('$detected on $proto/$port → $want', ({detected, proto, port, addresses, want}) => {
    expect(healthUrl(detected, proto, port, addresses)).toBe(want)
  })
})

describe('parseOsmodaUnixSockets', () => {
  it('maps listening sockets in the run dir to daemon names', () => {
    const text = `Num       RefCount Protocol Flags    Type St Inode Path
0000000000000000: 00000002 00000000 00010000 0001 01 1001 /run/osmoda/agentd.sock
0000000000000000: 00000003 00000000 00000000 0001 03 1002 /run/osmoda/agentd.sock
0000000000000000: 00000002 00000000 00010000 0001 01 1003 /run/osmoda/keyd.sock
0000000000000000: 00000002 00000000 00010000 0001 01 1004 /run/other/x.sock
0000000000000000: 00000002 00000000 00010000 0001 01 1005
0000000000000000: 00000002 00000000 00010000 0001 01 1006 /run/osmoda/sub/dir.sock
`
    expect([...parseOsmodaUnixSockets(text, '/run/osmoda/')]).toEqual([
      [1001, 'agentd'],
      [1003, 'keyd'],
    ])
  })
})

describe('live discovery', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  async function listen(target: number | string, host?: string): Promise<Server> {
    const server = createServer()
    if (typeof target === 'string') server.listen(target)
    else server.listen(target, host)
    await once(server, 'listening')
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
    return server
  }

  it('reports systemd as unavailable on this machine (PID 1 is not systemd)', async () => {
    expect(await systemdAvailable()).toBe(false)
  })

  it('finds this process once per port across IPv4 and IPv6, without units', async () => {
    // Given this process listening on one port on 127.0.0.1 and ::1
    const server = await listen(0, '127.0.0.1')
    const port = (server.address() as AddressInfo).port
    await listen(port, '::1')
    // When discovering
    const discovery = await discoverServices()
    // Then there is one row for it, with its memory, and systemd facts are empty
    const rows = discovery.found.filter((row) => row.port === port)
    expect(rows).toEqual([
      {
        name: expect.any(String),
        pid: process.pid,
        port,
        protocol: 'tcp',
        detected_as: 'node',
        health_url: `http://127.0.0.1:${port}/`,
        systemd_unit: null,
        memory_bytes: expect.any(Number),
        cpu_usage: expect.any(Number),
      },
    ])
    expect(discovery).toMatchObject({systemd: 'unavailable', total_systemd_services: 0})
    expect(discovery.total_listening_ports).toBeGreaterThanOrEqual(1)
  })

  it('recognises an osmoda daemon by its socket in the run dir', async () => {
    // Given this process serving <runDir>/agentd.sock and a TCP port
    const runDir = await mkdtemp(join(tmpdir(), 'osmoda-run-'))
    cleanups.push(() => rm(runDir, {recursive: true, force: true}))
    await listen(join(runDir, 'agentd.sock'))
    const server = await listen(0, '127.0.0.1')
    const port = (server.address() as AddressInfo).port
    // When discovering with that run dir
    const discovery = await discoverServices({runDir})
    // Then its port is attributed to osmoda-agentd
    expect(discovery.found.find((row) => row.port === port)).toMatchObject({pid: process.pid, detected_as: 'osmoda-agentd'})
  })
})
