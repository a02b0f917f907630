import {once} from 'node:events'
import {mkdtemp, rm} from 'node:fs/promises'
import {createServer, type AddressInfo, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {SafetyStatus} from './api.js'
import {OSMODA_UNITS, parseIsActive, readLocalSafetyStatus, socketAnswers} from './local-status.js'

let dir: string
const servers: Server[] = []

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'osmoda-local-status-'))
})

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
  await rm(dir, {recursive: true, force: true})
})

async function listen(path?: string): Promise<Server> {
  const server = createServer()
  servers.push(server)
  if (path) server.listen(path)
  else server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return server
}

describe('parseIsActive', () => {
  it('pairs states with units in argv order', () => {
    // Given `systemctl is-active` output for the ten osmoda units, some down
    const text = ['active', 'inactive', 'failed', 'active', 'activating', 'active', 'inactive', 'active', 'active', 'deactivating'].join('\n')
    const states = parseIsActive(`${text}\n`, OSMODA_UNITS)
    expect(states['osmoda-agentd']).toBe('active')
    expect(states['osmoda-keyd']).toBe('inactive')
    expect(states['osmoda-watch']).toBe('failed')
    expect(states['osmoda-gateway']).toBe('deactivating')
  })

  it('says unknown for units it got no line for', () => {
    expect(parseIsActive('active\n', ['a.service', 'b.service'])).toEqual({a: 'active', b: 'unknown'})
  })
})

describe('socketAnswers', () => {
  it('is true for a listening socket and false for a missing one', async () => {
    await listen(join(dir, 'x.sock'))
    expect(await socketAnswers(join(dir, 'x.sock'))).toBe(true)
    expect(await socketAnswers(join(dir, 'missing.sock'))).toBe(false)
  })
})

describe('readLocalSafetyStatus', () => {
  it('reads host facts, ports and services without agentd', async () => {
    // Given a run dir where only the gateway's socket answers, and a TCP port of ours
    await listen(join(dir, 'gateway.sock'))
    const port = ((await listen()).address() as AddressInfo).port
    // When the local status is read
    const status = await readLocalSafetyStatus({runDir: dir, profile: join(dir, 'no-profile'), systemd: false})
    // Then it validates against the route's output schema and says where it came from
    expect(SafetyStatus.safeParse(status).success).toBe(true)
    expect(status).toMatchObject({source: 'local', agentd: 'unreachable', services_source: 'sockets', ledger: null, pending_approvals: null, generation: null})
    expect(status.health.status).toBe('unknown')
    expect(status.health.memory_total).toBeGreaterThan(0)
    expect(status.services['osmoda-gateway']).toBe('active')
    expect(status.services['osmoda-agentd']).toBe('inactive')
    expect(status.listening_ports?.some((p) => p.port === port && p.pid === process.pid)).toBe(true)
  })
})
