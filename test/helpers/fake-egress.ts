import {chmodSync} from 'node:fs'
import type {KeyObject} from 'node:crypto'
import {connect, createServer, type Socket} from 'node:net'
import {allowsNet, verifyCapability} from '../../src/lib/capability.js'

/** One CONNECT the fake egress received. */
export interface EgressRequest {
  target: string
  authorization: string | null
}

/** A stand-in for egress's Unix listener (SPEC §2.9), enough to test what reaches it. */
export interface FakeEgress {
  requests: EgressRequest[]
  close(): Promise<void>
}

/**
 * A CONNECT proxy on a Unix socket that records each request's Proxy-Authorization, checks the
 * token like egress does (signature, audience egress, a matching net: entry) and tunnels allowed
 * names to 127.0.0.1:<port> per `hosts`; everything else gets 403 with X-Osmoda-Deny-Reason. It
 * stands in for the real egress daemon, which is built separately.
 */
export async function startFakeEgress(options: {socketPath: string; verifyKey: KeyObject; hosts: Record<string, number>}): Promise<FakeEgress> {
  const requests: EgressRequest[] = []
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    sockets.add(client)
    client.once('close', () => sockets.delete(client))
    client.on('error', () => client.destroy())
    let head = ''
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1')
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) return
      client.off('data', onData)
      const [requestLine = '', ...lines] = head.slice(0, end).split('\r\n')
      const target = /^CONNECT (\S+) HTTP\/1\.1$/.exec(requestLine)?.[1] ?? ''
      const authorization = lines.find((l) => /^proxy-authorization:/i.test(l))?.replace(/^[^:]+:\s*/, '') ?? null
      requests.push({target, authorization})
      const deny = (reason: string) => client.end(`HTTP/1.1 403 Forbidden\r\nX-Osmoda-Deny-Reason: ${reason}\r\nContent-Length: 0\r\n\r\n`)
      const token = authorization?.replace(/^Bearer /, '') ?? ''
      const verdict = verifyCapability(token, {verifyKey: options.verifyKey, audience: 'egress', now: Date.now(), isRevoked: () => false})
      if (!verdict.valid) return deny(verdict.reason)
      const [host = '', port = ''] = target.split(':')
      const upstreamPort = options.hosts[host]
      if (!allowsNet(verdict.claims.perms, host, Number(port)) || upstreamPort === undefined) return deny('not_allowed')
      const upstream = connect(upstreamPort, '127.0.0.1', () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
        client.pipe(upstream)
        upstream.pipe(client)
      })
      upstream.on('error', () => client.destroy())
    }
    client.on('data', onData)
  })
  await new Promise<void>((resolve) => server.listen(options.socketPath, resolve))
  // The sandbox user must be able to connect (the real socket is group osmoda-sandbox, 0660).
  chmodSync(options.socketPath, 0o666)
  return {
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
