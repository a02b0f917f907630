import {connect as tlsConnect} from 'node:tls'
import {createServer} from 'node:net'
import {describe, expect, it} from 'vitest'
import {buildClientHello, inspectFirstBytes} from './first-bytes.js'

/** The first bytes a real Node TLS client sends for `servername`. */
async function realClientHello(servername: string | undefined): Promise<Buffer> {
  const server = createServer()
  const got = new Promise<Buffer>((resolve) => {
    server.once('connection', (socket) => {
      socket.once('data', (data: Buffer) => {
        resolve(data)
        socket.destroy()
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as {port: number}
  const client = tlsConnect({host: '127.0.0.1', port, servername, rejectUnauthorized: false})
  client.on('error', () => {})
  const data = await got
  client.destroy()
  server.close()
  return data
}

describe('first bytes of a tunnel', () => {
  it('finds the SNI of a real TLS ClientHello, and none when the client sends none', async () => {
    expect(inspectFirstBytes(await realClientHello('api.Example.com'))).toEqual({kind: 'tls', sni: 'api.example.com'})
    expect(inspectFirstBytes(await realClientHello(undefined))).toEqual({kind: 'tls', sni: null})
  })

  it('waits for a whole record, then parses hand-built hellos', () => {
    const hello = buildClientHello('github.com')
    expect(inspectFirstBytes(hello.subarray(0, 3))).toEqual({kind: 'need_more'})
    expect(inspectFirstBytes(hello.subarray(0, hello.length - 1))).toEqual({kind: 'need_more'})
    expect(inspectFirstBytes(hello)).toEqual({kind: 'tls', sni: 'github.com'})
    expect(inspectFirstBytes(buildClientHello(null))).toEqual({kind: 'tls', sni: null})
    expect(inspectFirstBytes(buildClientHello('evil.example.'))).toEqual({kind: 'tls', sni: 'evil.example'})
  })

  it('treats truncated or lying lengths as no SNI, never as a crash', () => {
    const hello = buildClientHello('github.com')
    for (let cut = 6; cut < hello.length; cut += 3) {
      const lying = Buffer.from(hello.subarray(0, cut))
      lying.writeUInt16BE(cut - 5, 3)
      const result = inspectFirstBytes(lying)
      expect(result.kind).toBe('tls')
    }
    const bogus = Buffer.from(hello)
    bogus.writeUInt16BE(0xffff, bogus.length - 'github.com'.length - 2)
    expect(inspectFirstBytes(bogus)).toEqual({kind: 'tls', sni: null})
  })

  it('spots nested CONNECT and plain HTTP request lines, and lets other bytes pass', () => {
    expect(inspectFirstBytes(Buffer.from('CONNECT evil.example:443 HTTP/1.1\r\n'))).toEqual({kind: 'http', method: 'CONNECT'})
    expect(inspectFirstBytes(Buffer.from('GET / HTTP/1.1\r\n'))).toEqual({kind: 'http', method: 'GET'})
    expect(inspectFirstBytes(Buffer.from('CONN'))).toEqual({kind: 'need_more'})
    expect(inspectFirstBytes(Buffer.from('SSH-2.0-OpenSSH\r\n'))).toEqual({kind: 'other'})
    expect(inspectFirstBytes(Buffer.from('hello'))).toEqual({kind: 'other'})
  })
})
