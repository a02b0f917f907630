import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {createFakeMesh, type FakeMesh, type FakeNode} from '../../../test/helpers/mesh-link-fake.js'
import {migrate, openDatabase, type Db} from '../../lib/db/open.js'
import type {OsmodaError} from '../../lib/errors.js'
import {openLedger, type Ledger} from '../../lib/ledger/ledger.js'
import {silentLogger} from '../../lib/log.js'
import {createRoomsService, type RoomsService} from './rooms.js'
import {createRoomsStore, ROOMS_MIGRATION} from './rooms-store.js'
import {signRoomMessage} from './rooms-wire.js'

interface Member {
  node: FakeNode
  rooms: RoomsService
  db: Db
  ledger: Ledger
  settings: {roomHistoryMax: number; maxMessageBytes: number}
}

let dir: string
let mesh: FakeMesh
let members: Member[]
let clock: number

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-rooms-'))
  mesh = createFakeMesh()
  members = []
  clock = Date.parse('2026-11-26T05:00:00.000Z')
})

afterEach(() => {
  for (const m of members) {
    m.db.close()
    m.ledger.close()
  }
  rmSync(dir, {recursive: true, force: true})
})

function addMember(settings = {roomHistoryMax: 10_000, maxMessageBytes: 4_194_304}): Member {
  const node = mesh.addNode()
  const db = openDatabase(join(dir, `${node.id}.db`))
  migrate(db, [ROOMS_MIGRATION])
  const ledger = openLedger(join(dir, `${node.id}-ledger.db`))
  // Each node's clock ticks on every read so that ids made on different nodes interleave by time.
  const rooms = createRoomsService({link: node.link, store: createRoomsStore(db), ledger, signingKey: node.signingKey, log: silentLogger, settings: () => settings, now: () => (clock += 7)})
  const member = {node, rooms, db, ledger, settings}
  members.push(member)
  return member
}

/** Three nodes that all pinned each other and are connected. */
function trio(): [Member, Member, Member] {
  const [a, b, c] = [addMember(), addMember(), addMember()]
  for (const [x, y] of [[a, b], [a, c], [b, c]] as const) mesh.pair(x.node, y.node)
  for (const [x, y] of [[a, b], [a, c], [b, c]] as const) mesh.connect(x.node, y.node)
  return [a, b, c]
}

const texts = (m: Member, roomId: string) => m.rooms.history({room_id: roomId, limit: 500}).messages.map((x) => x.text)
const codeOf = async (p: Promise<unknown>) => p.then(() => 'NO_ERROR', (e: OsmodaError) => e.code)

describe('rooms', () => {
  it('creates a room, tells every member, and delivers signed messages to all of them in one order', async () => {
    // Given three connected nodes and a room created by a with b and c
    const [a, b, c] = trio()
    await mesh.settle()
    const room = await a.rooms.create({name: 'ops', peer_ids: [b.node.id, c.node.id]}, 'operator:root')
    await mesh.settle()
    // Then b and c know the room with its owner and members
    for (const m of [b, c]) expect(m.rooms.list().rooms).toEqual([expect.objectContaining({id: room.id, name: 'ops', owner: a.node.id, members: [...room.members]})])
    // When a, b and c each send messages
    const sent = await a.rooms.send({room_id: room.id, text: 'from a'}, 'operator:root')
    await mesh.settle()
    await b.rooms.send({room_id: room.id, text: 'from b'}, 'agent:ops')
    await c.rooms.send({room_id: room.id, text: 'from c'}, 'agent:ops')
    await mesh.settle()
    // Then the sender reports delivery to both others, and every node shows the same three messages in the same order
    expect(sent.delivered_to.sort()).toEqual([b.node.id, c.node.id].sort())
    expect(sent.queued_for).toEqual([])
    expect(texts(a, room.id)).toEqual(['from a', 'from b', 'from c'])
    expect(texts(b, room.id)).toEqual(texts(a, room.id))
    expect(texts(c, room.id)).toEqual(texts(a, room.id))
    expect(a.rooms.history({room_id: room.id, limit: 50}).messages.map((m) => m.id)).toEqual(c.rooms.history({room_id: room.id, limit: 50}).messages.map((m) => m.id))
    // And the sender's ledger records the room and its message, never the text
    const events = a.ledger.query({limit: 10, order: 'asc'})
    expect(events.map((e) => e.type)).toEqual(['mesh.room_created', 'mesh.room_message_sent'])
    expect(events[1]?.payload).toEqual({room_id: room.id, message_id: sent.message_id, bytes: 6})
    expect(mesh.errors).toEqual([])
  })

  it('lets only the owner add members; the new member learns the room; unknown peers and rooms are refused', async () => {
    // Given a room of a and b, and c paired with everyone
    const [a, b, c] = trio()
    const room = await a.rooms.create({name: 'pair', peer_ids: [b.node.id]}, 'operator:root')
    await mesh.settle()
    expect(c.rooms.list().rooms).toEqual([])
    // When b (not the owner) tries to add c
    expect(await codeOf(b.rooms.join({room_id: room.id, peer_id: c.node.id}, 'agent:ops'))).toBe('CONFLICT')
    // And a adds a stranger, or acts on an unknown room
    expect(await codeOf(a.rooms.join({room_id: room.id, peer_id: 'f'.repeat(32)}, 'agent:ops'))).toBe('CONFLICT')
    expect(await codeOf(a.rooms.create({name: 'x', peer_ids: ['e'.repeat(32)]}, 'agent:ops'))).toBe('CONFLICT')
    expect(await codeOf(a.rooms.join({room_id: 'room_01JDX8Q4S1T6V0W7Y2Z3A4B5C6', peer_id: c.node.id}, 'agent:ops'))).toBe('NOT_FOUND')
    expect(await codeOf(a.rooms.send({room_id: 'room_01JDX8Q4S1T6V0W7Y2Z3A4B5C6', text: 'x'}, 'agent:ops'))).toBe('NOT_FOUND')
    // When the owner adds c (twice: idempotent)
    await a.rooms.join({room_id: room.id, peer_id: c.node.id}, 'agent:ops')
    const again = await a.rooms.join({room_id: room.id, peer_id: c.node.id}, 'agent:ops')
    await mesh.settle()
    // Then every node holds the same three members and one join is ledgered
    expect(again.members).toHaveLength(3)
    for (const m of [a, b, c]) expect(m.rooms.list().rooms[0]?.members.sort()).toEqual([a.node.id, b.node.id, c.node.id].sort())
    expect(a.ledger.query({limit: 10, order: 'asc', type: 'mesh.room_joined'}).map((e) => e.payload)).toEqual([{room_id: room.id, peer_id: c.node.id}])
    // And c's message reaches b, which c has pinned itself
    await c.rooms.send({room_id: room.id, text: 'hello'}, 'agent:ops')
    await mesh.settle()
    expect(texts(b, room.id)).toEqual(['hello'])
  })

  it('catches a member up on reconnect, from any member, with no duplicates', async () => {
    // Given a room of three, and c cut off from everyone
    const [a, b, c] = trio()
    const room = await a.rooms.create({name: 'ops', peer_ids: [b.node.id, c.node.id]}, 'operator:root')
    await mesh.settle()
    await a.rooms.send({room_id: room.id, text: 'm0'}, 'x')
    await mesh.settle()
    mesh.disconnect(a.node, c.node)
    mesh.disconnect(b.node, c.node)
    // When a and b talk while c is away
    const queued = await a.rooms.send({room_id: room.id, text: 'm1'}, 'x')
    await mesh.settle()
    await b.rooms.send({room_id: room.id, text: 'm2'}, 'x')
    await a.rooms.send({room_id: room.id, text: 'm3'}, 'x')
    await mesh.settle()
    expect(queued.queued_for).toEqual([c.node.id])
    expect(texts(c, room.id)).toEqual(['m0'])
    // And c comes back connected to b only
    mesh.connect(b.node, c.node)
    await mesh.settle()
    // Then c holds everything, in the same order as a
    expect(texts(c, room.id)).toEqual(['m0', 'm1', 'm2', 'm3'])
    // When c reconnects to a as well, and to b again
    mesh.connect(a.node, c.node)
    await mesh.settle()
    mesh.disconnect(b.node, c.node)
    mesh.connect(b.node, c.node)
    await mesh.settle()
    // Then nothing is duplicated
    expect(texts(c, room.id)).toEqual(['m0', 'm1', 'm2', 'm3'])
    expect(c.rooms.stats().accepted).toBe(4)
    expect(c.rooms.list().rooms[0]?.message_count).toBe(4)
    expect(mesh.errors).toEqual([])
  })

  it('gets a message it missed from a sender it was not connected to, through a member that holds it', async () => {
    // Given a room of three where c is connected to b but not to a
    const [a, b, c] = trio()
    const room = await a.rooms.create({name: 'ops', peer_ids: [b.node.id, c.node.id]}, 'operator:root')
    await mesh.settle()
    mesh.disconnect(a.node, c.node)
    // When a sends (c misses it) and then b sends (c gets it directly)
    await a.rooms.send({room_id: room.id, text: 'from a'}, 'x')
    await mesh.settle()
    await b.rooms.send({room_id: room.id, text: 'from b'}, 'x')
    await mesh.settle()
    expect(texts(c, room.id)).toEqual(['from b'])
    // And c reconnects to b
    mesh.disconnect(b.node, c.node)
    mesh.connect(b.node, c.node)
    await mesh.settle()
    // Then c has a's message too, verified with the key it pinned for a
    expect(texts(c, room.id)).toEqual(['from a', 'from b'])
  })

  it('splits a long catch-up into several replies under the message cap', async () => {
    // Given a room whose nodes cap messages at 8 KiB
    const small = {roomHistoryMax: 10_000, maxMessageBytes: 8192}
    const [a, c] = [addMember(small), addMember(small)]
    mesh.pair(a.node, c.node)
    mesh.connect(a.node, c.node)
    const room = await a.rooms.create({name: 'big', peer_ids: [c.node.id]}, 'x')
    await mesh.settle()
    mesh.disconnect(a.node, c.node)
    for (let i = 0; i < 12; i++) await a.rooms.send({room_id: room.id, text: `${i}:${'x'.repeat(1000)}`}, 'x')
    // When c reconnects
    c.node.received.length = 0
    mesh.connect(a.node, c.node)
    await mesh.settle()
    // Then it received several sync replies, each under the cap, and all 12 messages
    const replies = c.node.received.filter(([, m]) => m.type === 'room_sync_reply')
    expect(replies.length).toBeGreaterThan(1)
    for (const [, r] of replies) expect(Buffer.byteLength(JSON.stringify(r))).toBeLessThan(8192)
    expect(texts(c, room.id).map((t) => Number(t.split(':')[0]))).toEqual([...Array(12).keys()])
  })

  it('keeps the newest roomHistoryMax messages and pages history from the newest back', async () => {
    // Given a room that keeps 5 messages
    const a = addMember({roomHistoryMax: 5, maxMessageBytes: 4_194_304})
    const room = await a.rooms.create({name: 'solo', peer_ids: []}, 'x')
    // When 8 are sent
    for (let i = 0; i < 8; i++) await a.rooms.send({room_id: room.id, text: `m${i}`}, 'x')
    // Then the newest 5 remain, oldest first, paged two at a time
    expect(texts(a, room.id)).toEqual(['m3', 'm4', 'm5', 'm6', 'm7'])
    const first = a.rooms.history({room_id: room.id, limit: 2})
    expect(first.messages.map((m) => m.text)).toEqual(['m6', 'm7'])
    const second = a.rooms.history({room_id: room.id, limit: 2, cursor: first.next_cursor as string})
    expect(second.messages.map((m) => m.text)).toEqual(['m4', 'm5'])
    const last = a.rooms.history({room_id: room.id, limit: 2, cursor: second.next_cursor as string})
    expect(last).toEqual({messages: [expect.objectContaining({text: 'm3'})], next_cursor: null})
    expect(a.rooms.list().rooms[0]?.message_count).toBe(5)
  })
})

describe('rooms: bad wire input', () => {
  it('ignores and counts malformed, forged and misaddressed messages; never stores them', async () => {
    // Given a room of a and b, and c paired with both but not a member
    const [a, b, c] = trio()
    const room = await a.rooms.create({name: 'ops', peer_ids: [b.node.id]}, 'x')
    await mesh.settle()
    const unsigned = {id: 'msg_01JDX8Q4S1T6V0W7Y2Z3A4B5C6', room_id: room.id, sender: b.node.id, text: 'hi', ts: '2026-11-26T05:00:01.000Z'}
    const signed = {...unsigned, sig: signRoomMessage(unsigned, b.node.signingKey)}
    const good = {type: 'room_message', ...signed}
    const byC = {...unsigned, sender: c.node.id}
    const cases: [FakeNode, Record<string, unknown>, string][] = [
      [b.node, {type: 'room_message'}, 'malformed'],
      [b.node, {...good, text: 42}, 'malformed'],
      [b.node, {...good, extra: 1}, 'malformed'],
      [b.node, {...good, text: 'x'.repeat(16_385)}, 'malformed'],
      [b.node, {...good, id: '../../etc'}, 'malformed'],
      [b.node, {...good, ts: 'yesterday'}, 'malformed'],
      [b.node, {...good, sig: 'A'.repeat(86) + '=='}, 'bad_signature'],
      [b.node, {...good, text: 'tampered'}, 'bad_signature'],
      [b.node, {...good, room_id: 'room_01JDX8Q4S1T6V0W7Y2Z3A4B5C7'}, 'unknown_room'],
      [c.node, good, 'not_member'],
      [b.node, {type: 'room_message', ...byC, sig: signRoomMessage(byC, c.node.signingKey)}, 'sender_mismatch'],
      [c.node, {type: 'room_update', room: {id: room.id, name: 'hijack', owner: c.node.id, members: [c.node.id, a.node.id], created_at: '2026-11-26T05:00:00.000Z'}}, 'not_owner'],
      [b.node, {type: 'room_update', room: {id: room.id, name: 'ops', owner: a.node.id, members: [a.node.id, b.node.id, c.node.id], created_at: '2026-11-26T05:00:00.000Z'}}, 'not_owner'],
      [b.node, {type: 'room_update', room: {id: 'room_x'}}, 'malformed'],
      [b.node, {type: 'room_update', room: {id: room.id, name: 'ops', owner: b.node.id, members: Array(66).fill(b.node.id), created_at: '2026-11-26T05:00:00.000Z'}}, 'malformed'],
      [c.node, {type: 'room_sync_request', room_id: room.id, after_id: null}, 'not_member'],
      [b.node, {type: 'room_sync_request', room_id: room.id}, 'malformed'],
      [b.node, {type: 'room_sync_request', room_id: room.id, after_id: 7}, 'malformed'],
      [c.node, {type: 'room_sync_reply', room_id: room.id, messages: [signed]}, 'not_member'],
      [b.node, {type: 'room_sync_reply', room_id: room.id, messages: [good]}, 'malformed'],
      [b.node, {type: 'room_sync_reply', room_id: room.id, messages: 'all'}, 'malformed'],
      [b.node, {type: 'room_sync_reply', room_id: room.id, messages: [{...byC, sig: signRoomMessage(byC, c.node.signingKey)}]}, 'sender_not_member'],
      [b.node, {type: 'room_sync_reply', room_id: room.id, messages: [{...unsigned, sender: a.node.id, sig: signRoomMessage({...unsigned, sender: a.node.id}, b.node.signingKey)}]}, 'bad_signature'],
    ]
    // When each is delivered to a over an authenticated session
    for (const [from, message, reason] of cases) {
      const before = a.rooms.stats().rejected[reason as 'malformed'] ?? 0
      mesh.inject(from, a.node, message)
      await mesh.settle()
      // Then it is counted under its reason
      expect({message: JSON.stringify(message).slice(0, 80), count: a.rooms.stats().rejected[reason as 'malformed']}).toEqual({message: JSON.stringify(message).slice(0, 80), count: before + 1})
    }
    // And nothing was stored, no reply went to the non-member, the room is unchanged, nothing threw
    expect(texts(a, room.id)).toEqual([])
    expect(c.node.received.filter(([, m]) => m.type === 'room_sync_reply')).toEqual([])
    expect(a.rooms.list().rooms[0]).toMatchObject({name: 'ops', owner: a.node.id, members: [a.node.id, b.node.id].sort()})
    expect(c.rooms.list().rooms).toEqual([])
    expect(mesh.errors).toEqual([])
    // And the genuine message is still accepted afterwards, once
    mesh.inject(b.node, a.node, good)
    mesh.inject(b.node, a.node, good)
    await mesh.settle()
    expect(texts(a, room.id)).toEqual(['hi'])
    expect(a.rooms.stats().duplicates).toBe(1)
  })
})
