import {createServer as createHttpServer} from 'node:http'
import {createServer, type Server} from 'node:net'
import {afterEach, describe, expect, it} from 'vitest'
import {CheckTimeouts, HealthCheck, runHealthCheck, systemdAvailable} from './health-checks.js'

const timeouts = CheckTimeouts.parse({})
const servers: Server[] = []
const listen = async <S extends Server>(server: S): Promise<number> => {
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as {port: number}).port
}
const closedPort = async () => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as {port: number}).port
  await new Promise((resolve) => server.close(resolve))
  return port
}
const run = (check: unknown) => runHealthCheck(HealthCheck.parse(check), timeouts)

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))))
})

describe('health checks', () => {
  it('tcp_port passes on a listening port and fails with the errno on a closed one', async () => {
    const open = await listen(createServer((socket) => socket.destroy()))
    expect(await run({type: 'tcp_port', port: open})).toMatchObject({ok: true, detail: `connected to 127.0.0.1:${open}`})
    const closed = await closedPort()
    expect(await run({type: 'tcp_port', port: closed})).toMatchObject({ok: false, detail: `127.0.0.1:${closed}: ECONNREFUSED`})
  })

  it('http_get compares the status exactly', async () => {
    const port = await listen(createHttpServer((req, res) => ((res.statusCode = req.url === '/ok' ? 200 : 503), res.end())))
    expect(await run({type: 'http_get', url: `http://127.0.0.1:${port}/ok`})).toMatchObject({ok: true})
    expect(await run({type: 'http_get', url: `http://127.0.0.1:${port}/down`})).toMatchObject({ok: false, detail: expect.stringMatching(/answered 503 \(expected 200\)/)})
    expect(await run({type: 'http_get', url: `http://127.0.0.1:${port}/down`, expect_status: 503})).toMatchObject({ok: true})
  })

  it('http_get fails at its timeout when the server never answers', async () => {
    // Reads (so it sees the client hang up) but never answers.
    const port = await listen(createServer((socket) => socket.resume()))
    const result = await run({type: 'http_get', url: `http://127.0.0.1:${port}/`, timeout_secs: 1})
    expect(result).toMatchObject({ok: false, detail: expect.stringMatching(/no answer within 1000 ms/)})
    expect(result.duration_ms).toBeGreaterThanOrEqual(900)
  })

  it('command passes on exit 0 only and reports a missing executable as a failing check', async () => {
    expect(await run({type: 'command', command: '/bin/true'})).toMatchObject({ok: true, detail: 'exit 0'})
    expect(await run({type: 'command', command: '/bin/sh', args: ['-c', 'echo broken >&2; exit 3']})).toMatchObject({ok: false, detail: 'exit 3: broken'})
    expect(await run({type: 'command', command: '/nonexistent/check'})).toMatchObject({ok: false, detail: '/nonexistent/check does not exist or is not executable'})
  })

  it('command is killed at its timeout', async () => {
    const result = await run({type: 'command', command: '/bin/sleep', args: ['30'], timeout_secs: 1})
    expect(result).toMatchObject({ok: false, detail: expect.stringMatching(/timed out after 1000 ms/)})
    expect(result.duration_ms).toBeLessThan(5000)
  })

  it.skipIf(systemdAvailable())('systemd_unit fails with a clear detail where systemd is not PID 1', async () => {
    expect(await run({type: 'systemd_unit', unit: 'osmoda-agentd.service'})).toMatchObject({ok: false, detail: expect.stringMatching(/^systemd unavailable/)})
  })

  it('rejects relative executables, unknown types, non-http urls and out-of-range timeouts', () => {
    for (const bad of [
      {type: 'command', command: 'curl'},
      {type: 'ping', host: 'x'},
      {type: 'http_get', url: 'file:///etc/passwd'},
      {type: 'http_get', url: 'http://x/', timeout_secs: 0},
      {type: 'tcp_port', port: 65_536},
      {type: 'systemd_unit', unit: '../../x y'},
    ]) {
      expect(HealthCheck.safeParse(bad).success, JSON.stringify(bad)).toBe(false)
    }
  })
})
