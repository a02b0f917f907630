import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {createFakeMesh, type FakeNode} from '../../../test/helpers/mesh-link-fake.js'
import {rawRequest} from '../../../test/helpers/raw-request.js'
import {migrate, openDatabase, type Db} from '../../lib/db/open.js'
import {openLedger, type Ledger} from '../../lib/ledger/ledger.js'
import {silentLogger} from '../../lib/log.js'
import {createTokenAuth, tokenDigest} from '../../lib/rpc/auth.js'
import {createRpcServer, type RpcServer} from '../../lib/rpc/server.js'
import {roomsApi} from './rooms-api.js'
import {roomsHandlers} from './rooms-routes.js'
import {createRoomsService} from './rooms.js'
import {createRoomsStore, ROOMS_MIGRATION} from './rooms-store.js'
import {witnessApi} from './witness-api.js'
import {witnessHandlers} from './witness-routes.js'
import {createWitnessService} from './witness.js'
import {createWitnessStore, WITNESS_MIGRATION} from './witness-store.js'

const OP = `osm_op_${'o'.repeat(43)}`
const AG = `osm_ag_${'a'.repeat(43)}`

let dir: string
let db: Db
let ledger: Ledger
let server: RpcServer
let socket: string
let self: FakeNode
let peer: FakeNode
let ownRoom: string
let foreignRoom: string

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-rooms-routes-'))
  mkdirSync(join(dir, 'tokens'))
  writeFileSync(join(dir, 'tokens', 'operator.sha256'), tokenDigest(OP))
  writeFileSync(join(dir, 'tokens', 'agent.sha256'), tokenDigest(AG))
  db = openDatabase(join(dir, 'mesh.db'))
  migrate(db, [ROOMS_MIGRATION, WITNESS_MIGRATION])
  ledger = openLedger(join(dir, 'ledger.db'))
  const mesh = createFakeMesh()
  self = mesh.addNode()
  peer = mesh.addNode()
  mesh.pair(self, peer)
  const rooms = createRoomsService({link: self.link, store: createRoomsStore(db), ledger, signingKey: self.signingKey, log: silentLogger, settings: () => ({roomHistoryMax: 100, maxMessageBytes: 4_194_304})})
  const notCalled = async (): Promise<never> => {
    throw new Error('agentd is not part of these tests')
  }
  const witness = createWitnessService({
    link: self.link,
    store: createWitnessStore(db),
    ledger,
    signingKey: self.signingKey,
    agentd: {latestCheckpoint: notCalled, consistency: notCalled, storeCosignature: notCalled},
    origin: `osmoda/${self.id}/ledger`,
    log: silentLogger,
    settings: () => ({enable: true, everySecs: 300}),
  })
  // Given a room this node owns, and one the peer owns with this node as a member
  ownRoom = (await rooms.create({name: 'own', peer_ids: [peer.id]}, 'operator:root')).id
  foreignRoom = 'room_01JDX8Q4S1T6V0W7Y2Z3A4B5C6'
  mesh.connect(self, peer)
  mesh.inject(peer, self, {type: 'room_update', room: {id: foreignRoom, name: 'theirs', owner: peer.id, members: [peer.id, self.id], created_at: '2026-11-26T05:00:00.000Z'}})
  await mesh.settle()
  mesh.disconnect(self, peer)
  socket = join(dir, 'mesh.sock')
  server = createRpcServer({daemon: 'mesh', version: '0', api: {...roomsApi, ...witnessApi}, handlers: {...roomsHandlers(rooms), ...witnessHandlers(witness)}, auth: createTokenAuth(join(dir, 'tokens')), log: silentLogger})
  await server.listen(socket)
})

afterEach(async () => {
  await server.close()
  db.close()
  ledger.close()
  rmSync(dir, {recursive: true, force: true})
})

interface Case {
  name: string
  method: string
  path: () => string
  body?: unknown
  raw?: string
  role?: 'operator' | 'agent' | 'none'
  status: number
  code: string
}

const CASES: Case[] = [
  {name: 'rooms without a token', method: 'GET', path: () => '/rooms', role: 'none', status: 401, code: 'UNAUTHENTICATED'},
  {name: 'rooms with an unknown query field', method: 'GET', path: () => '/rooms?all=1', status: 400, code: 'VALIDATION_FAILED'},
  {name: 'create: malformed JSON', method: 'POST', path: () => '/room/create', raw: '{"name":', status: 400, code: 'INVALID_JSON'},
  {name: 'create: no name', method: 'POST', path: () => '/room/create', body: {}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'create: empty name', method: 'POST', path: () => '/room/create', body: {name: ''}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'create: name of 65', method: 'POST', path: () => '/room/create', body: {name: 'n'.repeat(65)}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'create: name a number', method: 'POST', path: () => '/room/create', body: {name: 7}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'create: unknown field', method: 'POST', path: () => '/room/create', body: {name: 'x', owner: 'me'}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'create: peer_ids not a list', method: 'POST', path: () => '/room/create', body: {name: 'x', peer_ids: 'abc'}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'create: 65 peer ids', method: 'POST', path: () => '/room/create', body: {name: 'x', peer_ids: Array.from({length: 65}, (_, i) => i.toString(16).padStart(32, '0'))}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'create: malformed peer id', method: 'POST', path: () => '/room/create', body: {name: 'x', peer_ids: ['../etc']}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'create: unknown peer', method: 'POST', path: () => '/room/create', body: {name: 'x', peer_ids: ['e'.repeat(32)]}, status: 409, code: 'CONFLICT'},
  {name: 'join: malformed room id', method: 'POST', path: () => '/room/room_x/join', body: {peer_id: 'e'.repeat(32)}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'join: unknown room', method: 'POST', path: () => '/room/room_01JDX8Q4S1T6V0W7Y2Z3A4B5C7/join', body: {peer_id: 'e'.repeat(32)}, status: 404, code: 'NOT_FOUND'},
  {name: 'join: no peer_id', method: 'POST', path: () => `/room/${ownRoom}/join`, body: {}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'join: unknown peer', method: 'POST', path: () => `/room/${ownRoom}/join`, body: {peer_id: 'e'.repeat(32)}, status: 409, code: 'CONFLICT'},
  {name: 'join: not the owner', method: 'POST', path: () => `/room/${foreignRoom}/join`, body: () => ({peer_id: peer.id}), status: 409, code: 'CONFLICT'},
  {name: 'send: empty text', method: 'POST', path: () => `/room/${ownRoom}/send`, body: {text: ''}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'send: text of 16385', method: 'POST', path: () => `/room/${ownRoom}/send`, body: {text: 'x'.repeat(16_385)}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'send: text a number', method: 'POST', path: () => `/room/${ownRoom}/send`, body: {text: 1}, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'send: unknown field', method: 'POST', path: () => `/room/${ownRoom}/send`, body: () => ({text: 'x', sender: peer.id}), status: 400, code: 'VALIDATION_FAILED'},
  {name: 'send: unknown room', method: 'POST', path: () => '/room/room_01JDX8Q4S1T6V0W7Y2Z3A4B5C7/send', body: {text: 'x'}, status: 404, code: 'NOT_FOUND'},
  {name: 'history: limit 0', method: 'GET', path: () => `/room/${ownRoom}/history?limit=0`, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'history: limit -1', method: 'GET', path: () => `/room/${ownRoom}/history?limit=-1`, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'history: limit 1.5', method: 'GET', path: () => `/room/${ownRoom}/history?limit=1.5`, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'history: bad cursor', method: 'GET', path: () => `/room/${ownRoom}/history?cursor=msg_..%2F`, status: 400, code: 'VALIDATION_FAILED'},
  {name: 'history: unknown room', method: 'GET', path: () => '/room/room_01JDX8Q4S1T6V0W7Y2Z3A4B5C7/history', status: 404, code: 'NOT_FOUND'},
  {name: 'witness heads as the agent', method: 'GET', path: () => '/witness/heads', role: 'agent', status: 403, code: 'FORBIDDEN'},
  {name: 'witness heads with a query field', method: 'GET', path: () => '/witness/heads?origin=x', status: 400, code: 'VALIDATION_FAILED'},
  {name: 'witness heads with no peer connected', method: 'GET', path: () => '/witness/heads', status: 503, code: 'NOT_READY'},
]

describe('room and witness routes: bad input', () => {
  it.each(CASES)('$name → $status $code', async (c) => {
    const role = c.role ?? 'operator'
    const headers: Record<string, string> = {}
    if (role !== 'none') headers.authorization = `Bearer ${role === 'operator' ? OP : AG}`
    if (c.body !== undefined || c.raw !== undefined) headers['content-type'] = 'application/json'
    const body = typeof c.body === 'function' ? (c.body as () => unknown)() : c.body
    const res = await rawRequest(socket, c.method, c.path(), {headers, body: c.raw ?? (body === undefined ? undefined : JSON.stringify(body))})
    expect(res.status).toBe(c.status)
    expect(res.body?.error?.code).toBe(c.code)
    // Nothing written: the two rooms of the setup, no message, only the setup's room_created event
    expect(db.prepare('SELECT count(*) FROM rooms').pluck().get()).toBe(2)
    expect(db.prepare('SELECT count(*) FROM room_messages').pluck().get()).toBe(0)
    expect(ledger.query({limit: 10, order: 'asc'}).map((e) => e.type)).toEqual(['mesh.room_created'])
  })

  it('clamps a history limit above 500 and serves the agent', async () => {
    const res = await rawRequest(socket, 'GET', `/room/${ownRoom}/history?limit=100000`, {headers: {authorization: `Bearer ${AG}`, 'x-osmoda-agent-id': 'ops'}})
    expect(res.status).toBe(200)
    expect(res.body).toEqual({messages: [], next_cursor: null})
  })
})
