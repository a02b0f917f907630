import {mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {pathsFrom} from '../../lib/paths.js'
import {ensureToken} from '../../lib/tokens.js'
import type {FleetMessage} from './fleet-api.js'
import {createMeshTransport} from './fleet-transport.js'

const ID = {B: 'b'.repeat(32), C: 'c'.repeat(32)} as const
let dir: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-fleet-'))
})

afterEach(() => {
  rmSync(dir, {recursive: true, force: true})
})

describe('the mesh transport', () => {
  let server: Server | undefined
  afterEach(() => server?.close())

  it('answers 503 "mesh is not running" when the socket is absent', async () => {
    const paths = pathsFrom({runDir: join(dir, 'run'), stateDir: join(dir, 'state'), configDir: join(dir, 'config')})
    mkdirSync(paths.tokensDir, {recursive: true, mode: 0o700})
    ensureToken(paths, 'operator')
    const transport = createMeshTransport(paths)
    await expect(transport.send(ID.B, {type: 'fleet_execute', fleet_id: 'fl_01JDX8Q4S1T6V0W7Y2Z3A4B5C6'})).rejects.toMatchObject({code: 'DAEMON_UNAVAILABLE', message: 'mesh is not running'})
  })

  it('posts the message to POST /peer/{id}/send on the mesh socket and passes its 409 through', async () => {
    const paths = pathsFrom({runDir: join(dir, 'run'), stateDir: join(dir, 'state'), configDir: join(dir, 'config')})
    mkdirSync(paths.tokensDir, {recursive: true, mode: 0o700})
    ensureToken(paths, 'operator')
    const seen: {url: string; body: unknown}[] = []
    server = createServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => {
        seen.push({url: req.url!, body: JSON.parse(body)})
        const connected = req.url === `/peer/${ID.B}/send`
        res.writeHead(connected ? 200 : 409, {'content-type': 'application/json'})
        res.end(JSON.stringify(connected ? {delivered: true, bytes: body.length} : {error: {code: 'PEER_NOT_CONNECTED', message: 'peer is not connected'}}))
      })
    })
    mkdirSync(join(dir, 'run'), {recursive: true})
    await new Promise<void>((done) => server!.listen(paths.socket('mesh'), done))
    const transport = createMeshTransport(paths)
    const message: FleetMessage = {type: 'fleet_execute', fleet_id: 'fl_01JDX8Q4S1T6V0W7Y2Z3A4B5C6'}
    await transport.send(ID.B, message)
    expect(seen).toEqual([{url: `/peer/${ID.B}/send`, body: {message}}])
    await expect(transport.send(ID.C, message)).rejects.toMatchObject({code: 'PEER_NOT_CONNECTED'})
  })
})
