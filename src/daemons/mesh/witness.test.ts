import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {createFakeMesh, type FakeMesh, type FakeNode} from '../../../test/helpers/mesh-link-fake.js'
import {migrate, openDatabase, type Db} from '../../lib/db/open.js'
import {signCheckpoint} from '../../lib/ledger/checkpoint.js'
import {openLedger, type Ledger} from '../../lib/ledger/ledger.js'
import {consistencyProof, leafHash, merkleRoot} from '../../lib/ledger/merkle.js'
import {checkReportedHeads, checkStoredCosignatures} from '../../lib/ledger/witness-check.js'
import {silentLogger} from '../../lib/log.js'
import {createCosignatureService} from '../agentd/witness/service.js'
import {createWitnessService, type AgentdLedgerPort, type WitnessService} from './witness.js'
import {createWitnessStore, WITNESS_MIGRATION} from './witness-store.js'

interface Node {
  node: FakeNode
  origin: string
  witness: WitnessService
  db: Db
  ledgerPath: string
  /** Reopened after tampering: agentd's view of ledger.db. */
  ledger: Ledger
  settings: {enable: boolean; everySecs: number}
}

let dir: string
let mesh: FakeMesh
let nodes: Node[]
let clock: number

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-witness-'))
  mesh = createFakeMesh()
  nodes = []
  clock = Date.parse('2026-11-26T05:00:00.000Z')
})

afterEach(() => {
  for (const n of nodes) {
    n.db.close()
    n.ledger.close()
  }
  rmSync(dir, {recursive: true, force: true})
})

/** agentd's side of witnessing over a real ledger: what GET /ledger/checkpoint, /ledger/proof/consistency and POST /ledger/cosignatures do. */
function ledgerPort(n: () => Node): AgentdLedgerPort {
  return {
    async latestCheckpoint() {
      return n().ledger.latestCheckpoint()
    },
    async consistency(oldSize, newSize) {
      const leaves = n().ledger.eventHashes(1, newSize).map(leafHash)
      return consistencyProof(leaves, oldSize, newSize).map((h) => h.toString('base64'))
    },
    async storeCosignature(input) {
      createCosignatureService({ledger: n().ledger}).store(input)
    },
  }
}

function addNode(): Node {
  const node = mesh.addNode()
  const db = openDatabase(join(dir, `${node.id}-mesh.db`))
  migrate(db, [WITNESS_MIGRATION])
  const ledgerPath = join(dir, `${node.id}-ledger.db`)
  const settings = {enable: true, everySecs: 300}
  const origin = `osmoda/${node.id}/ledger`
  const ref: {self?: Node} = {}
  const witness = createWitnessService({link: node.link, store: createWitnessStore(db), ledger: {append: (e) => (ref.self as Node).ledger.append(e)}, signingKey: node.signingKey, agentd: ledgerPort(() => ref.self as Node), origin, log: silentLogger, settings: () => settings, now: () => clock, headTimeoutMs: 500})
  const self: Node = {node, origin, witness, db, ledgerPath, ledger: openLedger(ledgerPath), settings}
  ref.self = self
  nodes.push(self)
  return self
}

/** Appends `count` events and signs a checkpoint of the new head, as agentd's checkpoint writer does. */
function grow(n: Node, count: number, tag = 'v1'): number {
  for (let i = 0; i < count; i++) n.ledger.append({type: 'test.event', actor: 'agentd', payload: {tag, i}})
  return checkpoint(n)
}

function checkpoint(n: Node): number {
  const size = n.ledger.size()
  const root = merkleRoot(n.ledger.eventHashes(1, size).map(leafHash))
  n.ledger.saveCheckpoint({size, root_hash: root.toString('base64'), ts: new Date(clock).toISOString(), note: signCheckpoint({origin: n.origin, size, rootHash: root, privateKey: n.node.signingKey, keyName: n.origin})})
  return size
}

/** What an attacker with root does: lifts the append-only triggers and edits ledger.db directly. */
function tamper(n: Node, sql: string): void {
  n.ledger.close()
  const raw = openDatabase(n.ledgerPath)
  raw.exec(`DROP TRIGGER IF EXISTS events_no_delete; DROP TRIGGER IF EXISTS events_no_update; ${sql}`)
  raw.close()
  n.ledger = openLedger(n.ledgerPath)
}

const truncate = (n: Node, keep: number) => tamper(n, `DELETE FROM events WHERE seq > ${keep}; DELETE FROM cosignatures WHERE size > ${keep}; DELETE FROM checkpoints WHERE size > ${keep};`)

/** Deletes everything and re-appends `size` different events: a valid chain with another history. */
function rewrite(n: Node, size: number): void {
  tamper(n, 'DELETE FROM events; DELETE FROM cosignatures; DELETE FROM checkpoints;')
  grow(n, size, 'forged')
}

function pair(a: Node, b: Node): void {
  mesh.pair(a.node, b.node)
  mesh.connect(a.node, b.node)
}

const types = (n: Node) => n.ledger.query({limit: 100, order: 'asc'}).map((e) => e.type).filter((t) => t !== 'test.event')
const pinned = (n: Node) => (peerId: string) => nodes.find((x) => x.node.id === peerId && x !== n)?.node.ed25519

describe('witnessing', () => {
  it('cosigns a first head, then only append-only extensions proven by RFC 9162 consistency; the origin stores each cosignature', async () => {
    // Given a with a signed checkpoint of 5 events, and witness b
    const [a, b] = [addNode(), addNode()]
    grow(a, 5)
    // When they connect (a offers its checkpoint on connect)
    pair(a, b)
    await mesh.settle()
    // Then a's checkpoint 5 carries b's verified cosignature, and b holds the head
    expect(a.ledger.cosignatures(5)).toEqual([expect.objectContaining({witness: `osmoda/${b.node.id}/witness`})])
    expect(b.witness.stats()).toMatchObject({cosigned: 1, heads_held: 1})
    // When a grows to 13 and offers again
    grow(a, 8)
    b.node.received.length = 0
    await a.witness.offerAll()
    await mesh.settle()
    // Then b asked for a consistency proof from 5 to 13 and cosigned 13
    expect(a.node.received.filter(([, m]) => m.type === 'consistency_request').map(([, m]) => [m.old, m.new])).toEqual([[5, 13]])
    expect(a.ledger.cosignatureCount(13)).toBe(1)
    expect(a.witness.stats().cosignatures_stored).toBe(2)
    // And offering the same head again re-sends the stored cosignature without a new proof
    await a.witness.offerAll()
    await mesh.settle()
    expect(a.node.received.filter(([, m]) => m.type === 'consistency_request')).toHaveLength(1)
    expect(a.ledger.cosignatureCount(13)).toBe(1)
    // And nothing was ledgered as a conflict, and no handler threw
    expect(types(b)).toEqual([])
    expect(mesh.errors).toEqual([])
  })

  it('refuses a truncated ledger: ledger.witness_conflict and a critical notification, once; never cosigned', async () => {
    // Given b witnessed a at size 12
    const [a, b] = [addNode(), addNode()]
    grow(a, 12)
    pair(a, b)
    await mesh.settle()
    // When a's ledger is cut back to 7 and a new checkpoint of 7 is offered, twice
    truncate(a, 7)
    checkpoint(a)
    await a.witness.offerAll()
    await a.witness.offerAll()
    await mesh.settle()
    // Then b ledgers one conflict with the sizes and notifies the operator; a gets no cosignature of 7
    const events = b.ledger.query({limit: 10, order: 'asc'})
    expect(events.map((e) => e.type)).toEqual(['ledger.witness_conflict', 'notification.requested'])
    expect(events[0]?.payload).toEqual({origin: a.origin, peer_id: a.node.id, stored_size: 12, offered_size: 7, reason: 'smaller'})
    expect(events[1]?.payload).toMatchObject({source: 'mesh', severity: 'critical'})
    expect(a.ledger.cosignatureCount(7)).toBe(0)
    expect(b.witness.stats()).toMatchObject({conflicts: 1, cosigned: 1})
  })

  it('refuses a rewritten ledger: the same size with another root, or a larger size whose proof does not hold', async () => {
    // Given b witnessed a at size 6
    const [a, b] = [addNode(), addNode()]
    grow(a, 6)
    pair(a, b)
    await mesh.settle()
    // When a's history is rewritten with 6 other events
    rewrite(a, 6)
    await a.witness.offerAll()
    await mesh.settle()
    // And then extended to 10 on top of the rewrite
    grow(a, 4, 'forged')
    await a.witness.offerAll()
    await mesh.settle()
    // Then both offers are conflicts and neither is cosigned
    expect(b.ledger.query({limit: 10, order: 'asc', type: 'ledger.witness_conflict'}).map((e) => e.payload.reason)).toEqual(['root_differs', 'inconsistent'])
    expect(a.ledger.cosignatureCount(6) + a.ledger.cosignatureCount(10)).toBe(0)
    // And b still holds the honest head of 6
    expect(b.witness.stats().heads_held).toBe(1)
  })

  it('detects through GET /witness/heads a ledger that peers witnessed and that was later truncated or rewritten', async () => {
    // Given b and c witnessed a at size 20
    const [a, b, c] = [addNode(), addNode(), addNode()]
    grow(a, 20)
    pair(a, b)
    pair(a, c)
    await mesh.settle()
    const heads = await a.witness.heads()
    // Then the heads check out against the intact ledger, as do the cosignatures stored beside it
    expect(heads.origin).toBe(a.origin)
    expect(heads.heads.map((h) => [h.peer_id, h.size]).sort()).toEqual([[b.node.id, 20], [c.node.id, 20]].sort())
    expect(checkReportedHeads(a.ledger.db, a.origin, heads.heads, pinned(a)).map((f) => f.status)).toEqual(['ok', 'ok'])
    expect(checkStoredCosignatures(a.ledger.db, pinned(a)).map((f) => [f.status, f.size])).toEqual([['ok', 20], ['ok', 20]])
    // When only the events past 17 are deleted, the cosigned checkpoint stored beside them exposes it
    tamper(a, 'DELETE FROM events WHERE seq > 17;')
    expect(checkStoredCosignatures(a.ledger.db, pinned(a)).map((f) => [f.status, f.reason])).toEqual([['failed', 'truncated'], ['failed', 'truncated']])
    expect(checkStoredCosignatures(a.ledger.db, () => undefined).map((f) => f.status)).toEqual(['unverified', 'unverified'])
    // When the ledger is truncated to 15 (and its own checkpoints with it)
    truncate(a, 15)
    // Then the peers' heads expose it
    const afterCut = checkReportedHeads(a.ledger.db, a.origin, (await a.witness.heads()).heads, pinned(a))
    expect(afterCut.map((f) => [f.status, f.reason])).toEqual([['failed', 'truncated'], ['failed', 'truncated']])
    // When it is instead rewritten at full length (a valid chain with another history)
    rewrite(a, 20)
    const afterRewrite = checkReportedHeads(a.ledger.db, a.origin, (await a.witness.heads()).heads, pinned(a))
    expect(afterRewrite.map((f) => [f.status, f.reason])).toEqual([['failed', 'root_mismatch'], ['failed', 'root_mismatch']])
    // And a head whose cosignature was forged is a failure, while one from an unpinned peer is unverified
    const forged = {...heads.heads[0]!, cosignature: heads.heads[1]!.cosignature}
    expect(checkReportedHeads(a.ledger.db, a.origin, [forged], pinned(a))[0]).toMatchObject({status: 'failed', reason: 'bad_cosignature'})
    expect(checkReportedHeads(a.ledger.db, a.origin, [heads.heads[0]!], () => undefined)[0]).toMatchObject({status: 'unverified', reason: 'unknown_witness'})
  })

  it('answers GET /witness/heads with 503 when no peer is connected, and skips peers that hold no head', async () => {
    const [a, b] = [addNode(), addNode()]
    await expect(a.witness.heads()).rejects.toMatchObject({code: 'NOT_READY'})
    b.settings.enable = false
    grow(a, 3)
    pair(a, b)
    await mesh.settle()
    expect(await a.witness.heads()).toEqual({origin: a.origin, heads: []})
    expect(a.ledger.cosignatureCount(3)).toBe(0)
    // And a connected peer that never answers is left out after the timeout (500 ms here)
    const mute = mesh.addNode()
    mesh.pair(a.node, mute)
    mesh.connect(a.node, mute)
    const started = Date.now()
    expect(await a.witness.heads()).toEqual({origin: a.origin, heads: []})
    expect(Date.now() - started).toBeGreaterThanOrEqual(450)
  })
})

describe('witnessing: bad wire input', () => {
  it('ignores and counts malformed, forged and unsolicited witness messages; stores and ledgers nothing', async () => {
    // Given a (origin), b (witness of a) and c, all paired; b holds a's head of 4
    const [a, b, c] = [addNode(), addNode(), addNode()]
    grow(a, 4)
    pair(a, b)
    pair(b, c)
    pair(a, c)
    await mesh.settle()
    const note = a.ledger.latestCheckpoint()!.note
    const foreign = signCheckpoint({origin: a.origin, size: 9, rootHash: Buffer.alloc(32, 1), privateKey: c.node.signingKey, keyName: a.origin})
    const byA = (size: number) => signCheckpoint({origin: a.origin, size, rootHash: Buffer.alloc(32, 2), privateKey: a.node.signingKey, keyName: a.origin})
    const cosig = a.ledger.cosignatures(4).find((x) => x.witness === `osmoda/${b.node.id}/witness`)!
    const root = a.ledger.latestCheckpoint()!.root_hash
    const cases: [Node, Node, Record<string, unknown>, string][] = [
      [a, b, {type: 'checkpoint'}, 'malformed'],
      [a, b, {type: 'checkpoint', note: 42}, 'malformed'],
      [a, b, {type: 'checkpoint', note: 'x'.repeat(9000)}, 'malformed'],
      [a, b, {type: 'checkpoint', note: 'not a note'}, 'malformed'],
      [a, b, {type: 'checkpoint', note: note.replace('\n4\n', '\n5\n')}, 'bad_signature'],
      [c, b, {type: 'checkpoint', note: foreign}, 'origin_claimed'],
      [a, b, {type: 'consistency_reply', old: 4, new: 9, hashes: []}, 'unexpected'],
      [a, b, {type: 'consistency_reply', old: 4, new: 9, hashes: ['zz']}, 'malformed'],
      [b, a, {type: 'consistency_request', old: 'a', new: 2}, 'malformed'],
      [b, a, {type: 'consistency_request', old: 3, new: 2}, 'malformed'],
      [b, a, {type: 'cosignature', size: 4, root_hash: root, witness: `osmoda/${c.node.id}/witness`, cosignature: cosig.cosignature, ts: cosig.ts}, 'witness_mismatch'],
      [c, a, {type: 'cosignature', size: 4, root_hash: root, witness: `osmoda/${c.node.id}/witness`, cosignature: cosig.cosignature, ts: cosig.ts}, 'bad_cosignature'],
      [b, a, {type: 'cosignature', size: 4, root_hash: root, witness: cosig.witness, cosignature: 'A'.repeat(104), ts: cosig.ts}, 'malformed'],
      [b, a, {type: 'cosignature', size: 4, root_hash: root, witness: cosig.witness, cosignature: cosig.cosignature, ts: cosig.ts, extra: true}, 'malformed'],
      [b, a, {type: 'witness_head_reply', origin: a.origin, size: 4, root_hash: root, cosignature: cosig.cosignature, ts: cosig.ts}, 'unexpected'],
      [b, a, {type: 'witness_head_reply', origin: a.origin, size: -1, root_hash: null, cosignature: null, ts: null}, 'malformed'],
      [b, a, {type: 'witness_head_request'}, 'malformed'],
    ]
    // When each arrives over an authenticated session
    for (const [from, to, message, reason] of cases) {
      const before = to.witness.stats().rejected[reason as 'malformed'] ?? 0
      mesh.inject(from.node, to.node, message)
      await mesh.settle()
      // Then it is counted under its reason
      expect({message: JSON.stringify(message).slice(0, 60), count: to.witness.stats().rejected[reason as 'malformed']}).toEqual({message: JSON.stringify(message).slice(0, 60), count: before + 1})
    }
    // And b still holds a's honest head only, a stored no extra cosignature, nobody ledgered anything, nothing threw
    expect(b.db.prepare('SELECT origin, size FROM witnessed_heads').all()).toEqual([{origin: a.origin, size: 4}])
    expect(a.ledger.cosignatures(4).map((x) => x.witness).sort()).toEqual([`osmoda/${b.node.id}/witness`, `osmoda/${c.node.id}/witness`].sort())
    for (const n of [a, b, c]) expect(types(n)).toEqual([])
    expect(mesh.errors).toEqual([])
    // And a larger head signed by a but beyond its ledger waits for a proof that never comes: not cosigned
    mesh.inject(a.node, b.node, {type: 'checkpoint', note: byA(9)})
    await mesh.settle()
    expect(a.node.received.filter(([, m]) => m.type === 'consistency_request').map(([, m]) => [m.old, m.new]).at(-1)).toEqual([4, 9])
    expect(b.witness.stats().cosigned).toBe(1)
    expect(a.ledger.cosignatureCount(9)).toBe(0)
  })
})
