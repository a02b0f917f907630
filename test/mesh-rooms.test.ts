// Three real mesh daemons on loopback, all paired by invites: a room created with the CLI carries
// signed messages to every member; C restarts while A and B talk and catches up with no duplicate.
// A's agentd signs checkpoints that B and C witness and cosign; `osmoda verify-ledger --witnesses`
// passes on the intact ledger and fails (exit 5) once the ledger is truncated behind the witnesses' back.
import {writeFileSync} from 'node:fs'
import net from 'node:net'
import {join} from 'node:path'
import Database from 'better-sqlite3'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {meshApi} from '../src/daemons/mesh/api.js'
import {loadMeshKeys} from '../src/daemons/mesh/identity.js'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'

interface Node {
  name: string
  env: TestEnv
  mesh: DaemonProcess
  agentd?: DaemonProcess
  id: string
}

const nodes: Record<'A' | 'B' | 'C', Node> = {} as never

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const {port} = server.address() as net.AddressInfo
  await new Promise((r) => server.close(r))
  return port
}

async function startNode(name: string, withAgentd: boolean): Promise<Node> {
  const env = await testEnv()
  writeFileSync(
    join(env.paths.configDir, 'mesh.json'),
    JSON.stringify({listenPort: await freePort(), reconnect: {initialSecs: 0.2, factor: 2, maxSecs: 1, jitter: 0.2, resetAfterSecs: 60}, witness: {enable: true, everySecs: 5}}),
  )
  const agentd = withAgentd ? await env.start('agentd') : undefined
  const mesh = await env.start('mesh')
  return {name, env, mesh, agentd, id: loadMeshKeys(env.paths).doc.instance_id}
}

async function call<T>(n: Node, fn: (c: ReturnType<typeof n.env.client<typeof meshApi>>) => Promise<T>): Promise<T> {
  const c = n.env.client('mesh', meshApi)
  try {
    return await fn(c)
  } finally {
    c.close()
  }
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 150))
  }
}

const connected = (n: Node, id: string) => waitFor(`${n.name} connected to ${id}`, async () => (await call(n, (c) => c.peerGet({peer_id: id})).catch(() => null))?.state === 'connected')

async function pair(inviter: Node, invitee: Node): Promise<void> {
  const invite = await call(inviter, (c) => c.inviteCreate({ttl_secs: 600, label: invitee.name}))
  await call(invitee, (c) => c.inviteAccept({invite_code: invite.invite_code, label: inviter.name}))
  await connected(inviter, invitee.id)
  await connected(invitee, inviter.id)
}

const history = async (n: Node, roomId: string) => (await n.env.cli(['mesh', 'room', 'history', roomId, '--limit', '500', '--json'])).json?.result?.messages as {id: string; sender: string; text: string}[] | undefined

beforeAll(async () => {
  nodes.A = await startNode('A', true)
  nodes.B = await startNode('B', false)
  nodes.C = await startNode('C', false)
  await pair(nodes.A, nodes.B)
  await pair(nodes.A, nodes.C)
  await pair(nodes.B, nodes.C)
}, 120_000)

afterAll(async () => {
  for (const n of Object.values(nodes)) {
    await n.mesh?.stopClean()
    await n.agentd?.stop()
    await n.env.cleanup()
  }
})

describe('mesh rooms between three real daemons', () => {
  let roomId = ''

  it('creates a room with the CLI; every member sees it and every message, in one order', async () => {
    // When A creates a room with B and C and each node sends a message
    const created = await nodes.A.env.cli(['mesh', 'room', 'create', 'ops', '--peer', nodes.B.id, '--peer', nodes.C.id, '--json'])
    expect(created.exitCode, created.stderr).toBe(0)
    roomId = created.json.result.id
    await waitFor('B and C know the room', async () => {
      const [b, c] = await Promise.all([nodes.B.env.cli(['mesh', 'rooms', '--json']), nodes.C.env.cli(['mesh', 'room', 'list', '--json'])])
      return b.json?.result.rooms.length === 1 && c.json?.result.rooms.length === 1
    })
    for (const n of [nodes.A, nodes.B, nodes.C]) {
      const sent = await n.env.cli(['mesh', 'room', 'send', roomId, `hello from ${n.name}`, '--json'])
      expect(sent.exitCode, sent.stderr).toBe(0)
      expect(sent.json.result.delivered_to).toHaveLength(2)
    }
    // Then all three hold the same three messages in the same order, attributed to their senders
    await waitFor('three messages everywhere', async () => (await Promise.all(Object.values(nodes).map((n) => history(n, roomId)))).every((h) => h?.length === 3))
    const a = await history(nodes.A, roomId)
    expect(a?.map((m) => m.text).sort()).toEqual(['hello from A', 'hello from B', 'hello from C'])
    expect(a?.find((m) => m.text === 'hello from B')?.sender).toBe(nodes.B.id)
    expect(await history(nodes.B, roomId)).toEqual(a)
    expect(await history(nodes.C, roomId)).toEqual(a)
    // And a non-owner cannot add members (409), a bad room id is a usage error
    const join = await nodes.B.env.cli(['mesh', 'room', 'join', roomId, nodes.A.id, '--json'])
    expect(join.exitCode).toBe(1)
    expect(join.json.error.code).toBe('CONFLICT')
    expect((await nodes.B.env.cli(['mesh', 'room', 'send', 'room_../x', 'hi', '--json'])).exitCode).toBe(2)
  }, 90_000)

  it('catches C up after a restart with no duplicates', async () => {
    // Given C goes down
    await nodes.C.mesh.stopClean()
    await waitFor('A saw C go', async () => (await call(nodes.A, (c) => c.peerGet({peer_id: nodes.C.id}))).state !== 'connected')
    // When A and B send while C is away
    for (let i = 0; i < 4; i++) {
      const from = i % 2 ? nodes.B : nodes.A
      const sent = await call(from, (c) => c.roomSend({room_id: roomId, text: `while C is away ${i}`}))
      expect(sent.queued_for).toEqual([nodes.C.id])
    }
    // And C comes back
    nodes.C.mesh = await nodes.C.env.start('mesh')
    await connected(nodes.C, nodes.A.id)
    await connected(nodes.C, nodes.B.id)
    // Then C holds all seven messages once each, in A's order
    await waitFor('C caught up', async () => (await history(nodes.C, roomId))?.length === 7)
    await new Promise((r) => setTimeout(r, 1500))
    const c = (await history(nodes.C, roomId)) ?? []
    expect(new Set(c.map((m) => m.id)).size).toBe(7)
    expect(c).toEqual(await history(nodes.A, roomId))
  }, 90_000)
})

describe('ledger witnessing between real daemons', () => {
  it('B and C cosign A checkpoints; verify-ledger --witnesses passes, then catches a truncated ledger', async () => {
    // When A's agentd signs a checkpoint
    const agentd = nodes.A.env.client('agentd', agentdApi)
    const cp = await agentd.ledgerCheckpointNow()
    // Then within a witness round both peers cosign it and A's agentd stores their cosignatures
    const cosigned = await waitFor('two cosignatures', async () => {
      const now = await agentd.ledgerCheckpoint({size: cp.size})
      return now.cosignatures.length === 2 ? now : undefined
    }, 40_000)
    agentd.close()
    expect(cosigned.cosignatures.map((c) => c.witness).sort()).toEqual([`osmoda/${nodes.B.id}/witness`, `osmoda/${nodes.C.id}/witness`].sort())
    // And verify-ledger --witnesses checks both stored cosignatures and both peers' heads
    const ok = await nodes.A.env.cli(['verify-ledger', '--witnesses', '--json'], {timeoutMs: 40_000})
    expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0)
    expect(ok.json.result.witnesses.filter((w: {status: string}) => w.status === 'ok').length).toBeGreaterThanOrEqual(4)
    // When agentd is stopped and the tail of the ledger is deleted behind everyone's back
    await nodes.A.agentd?.stopClean()
    const raw = new Database(join(nodes.A.env.paths.stateDir, 'ledger.db'))
    raw.exec(`DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq > ${cp.size - 3}; DELETE FROM cosignatures; DELETE FROM checkpoints;`)
    raw.close()
    // Then the chain alone still verifies, but the heads B and C witnessed expose the truncation (exit 5)
    const chainOnly = await nodes.A.env.cli(['verify-ledger', '--json'])
    expect(chainOnly.exitCode, chainOnly.stdout).toBe(0)
    const caught = await nodes.A.env.cli(['verify-ledger', '--witnesses', '--json'], {timeoutMs: 40_000})
    expect(caught.exitCode, caught.stdout + caught.stderr).toBe(5)
    const failed = caught.json.error.details.witnesses.filter((w: {status: string}) => w.status === 'failed')
    expect(failed.map((w: {peer_id: string; reason: string}) => [w.peer_id, w.reason]).sort()).toEqual([[nodes.B.id, 'truncated'], [nodes.C.id, 'truncated']].sort())
    expect(failed.every((w: {size: number}) => w.size >= cp.size)).toBe(true)
  }, 120_000)
})
