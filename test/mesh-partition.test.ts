// A network partition between real mesh daemons: three network namespaces joined by veth pairs
// to a bridge (in a fourth namespace), one daemon in each. C's link is cut, A and B keep talking in
// a room, the sessions die on heartbeat, C's dials fail and back off; the link heals, every side
// reconnects (reconnects counted) and C ends up with every room message exactly once.
import {execFileSync, spawn, type ChildProcess} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {meshApi, type Peer} from '../src/daemons/mesh/api.js'
import {loadMeshKeys} from '../src/daemons/mesh/identity.js'
import {commonApi} from '../src/lib/daemon/common-api.js'
import {BIN, testEnv, type TestEnv} from './helpers/env.js'
import {requireTool} from './helpers/system-tool.js'

const ipTool = requireTool('ip', 'apt-get install iproute2')
const notRoot = process.getuid?.() !== 0
if (!ipTool.skip && notRoot) console.warn('mesh partition test needs root to create network namespaces; skipping')

interface Node {
  name: 'a' | 'b' | 'c'
  ns: string
  address: string
  env: TestEnv
  child: ChildProcess
  id: string
}

const tag = randomBytes(3).toString('hex')
const hub = `osm-${tag}-hub`
const nodes: Node[] = []
const namespaces: string[] = []
const ip = (...args: string[]) => execFileSync('ip', args, {stdio: ['ignore', 'ignore', 'pipe']})

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

async function call<T>(n: Node, fn: (c: ReturnType<typeof n.env.client<typeof meshApi>>) => Promise<T>): Promise<T> {
  const c = n.env.client('mesh', meshApi)
  try {
    return await fn(c)
  } finally {
    c.close()
  }
}
const peer = (n: Node, other: Node): Promise<Peer> => call(n, (c) => c.peerGet({peer_id: other.id}))
const connected = (n: Node, other: Node) => waitFor(`${n.name} connected to ${other.name}`, async () => (await peer(n, other).catch(() => null))?.state === "connected").catch(async (error: Error) => {
  const ss = nodes.map((x) => `${x.name}: ${execFileSync('ip', ['netns', 'exec', x.ns, 'ss', '-ltn']).toString()}`).join('\n')
  throw new Error(`${error.message}: ${JSON.stringify(await peer(n, other).catch((e: Error) => e.message))}\n${ss}`)
})

/** One node: its namespace wired to the bridge, its state dir, and mesh started inside the namespace. */
async function startNode(name: Node['name'], index: number): Promise<Node> {
  const ns = `osm-${tag}-${name}`
  ip('netns', 'add', ns)
  namespaces.push(ns)
  const address = `10.77.${index}.1`
  ip('-n', hub, 'link', 'add', `vh-${name}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
  ip('-n', hub, 'link', 'set', `vh-${name}`, 'master', 'br0', 'up')
  ip('-n', ns, 'link', 'set', 'lo', 'up')
  ip('-n', ns, 'addr', 'add', `${address}/16`, 'dev', 'eth0')
  ip('-n', ns, 'link', 'set', 'eth0', 'up')
  const env = await testEnv()
  writeFileSync(
    join(env.paths.configDir, 'mesh.json'),
    JSON.stringify({
      listenAddress: address,
      listenPort: 18800,
      publicEndpoint: `${address}:18800`,
      heartbeatSecs: 1,
      deadAfterSecs: 3,
      handshakeTimeoutSecs: 2,
      reconnect: {initialSecs: 0.25, factor: 2, maxSecs: 2, jitter: 0.2, resetAfterSecs: 60},
      witness: {enable: false, everySecs: 300},
    }),
  )
  // `ip netns exec` execs node in the namespace (the port is fixed: testEnv's env asks for port 0): the pid is the daemon's, the Unix socket is shared.
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, BIN, 'daemon', 'mesh'], {env: {...env.env, OSMODA_MESH_LISTEN_PORT: '18800'}, stdio: ['ignore', 'ignore', 'pipe']})
  let stderr = ''
  child.stderr?.on('data', (d) => (stderr += d))
  const probe = env.client('mesh', commonApi)
  await waitFor(`mesh ${name} ready (${stderr})`, () => probe.health().then(() => true, () => child.exitCode !== null && Promise.reject(new Error(stderr))), 20_000)
  probe.close()
  return {name, ns, address, env, child, id: loadMeshKeys(env.paths).doc.instance_id}
}

async function pair(inviter: Node, invitee: Node): Promise<void> {
  const invite = await call(inviter, (c) => c.inviteCreate({ttl_secs: 600, label: invitee.name}))
  await call(invitee, (c) => c.inviteAccept({invite_code: invite.invite_code, label: inviter.name}))
  await connected(inviter, invitee)
  await connected(invitee, inviter)
}

const texts = async (n: Node, roomId: string) => (await call(n, (c) => c.roomHistory({room_id: roomId, limit: 500}))).messages

describe.skipIf(ipTool.skip || notRoot)('mesh across a network partition (network namespaces)', () => {
  beforeAll(async () => {
    ip('netns', 'add', hub)
    namespaces.push(hub)
    ip('-n', hub, 'link', 'add', 'br0', 'type', 'bridge')
    ip('-n', hub, 'link', 'set', 'br0', 'up')
    nodes.push(await startNode('a', 1), await startNode('b', 2), await startNode('c', 3))
  }, 90_000)

  afterAll(async () => {
    for (const n of nodes) {
      if (n.child.exitCode === null) {
        const exited = new Promise((r) => n.child.once('exit', r))
        n.child.kill('SIGTERM')
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))])
        if (n.child.exitCode === null) n.child.kill('SIGKILL')
      }
      await n.env.cleanup()
    }
    for (const ns of namespaces.reverse()) {
      try {
        ip('netns', 'del', ns)
      } catch {
        // already gone
      }
    }
  })

  it('cuts C off and heals it: sessions drop and come back with back-off, and no room message is lost', async () => {
    const [a, b, c] = nodes as [Node, Node, Node]
    // Given three paired nodes in a room
    await pair(a, b)
    await pair(a, c)
    await pair(b, c)
    const room = await call(a, (x) => x.roomCreate({name: 'ops', peer_ids: [b.id, c.id]}))
    await waitFor('c knows the room', async () => (await call(c, (x) => x.rooms({}))).rooms.length === 1)
    await call(a, (x) => x.roomSend({room_id: room.id, text: 'before the cut'}))
    await waitFor('c got the first message', async () => (await texts(c, room.id)).length === 1)
    const reconnectsBefore = (await peer(a, c)).stats.reconnects

    // When C's link goes down
    ip('-n', hub, 'link', 'set', 'vh-c', 'down')
    // Then the sessions die on the heartbeat deadline and C's side keeps failing to dial, backing off
    await waitFor('a lost c', async () => (await peer(a, c)).state !== 'connected', 15_000)
    await waitFor('c lost a and b', async () => (await peer(c, a)).state !== 'connected' && (await peer(c, b)).state !== 'connected', 15_000)
    const seen = new Set<string>()
    for (let i = 0; i < 25; i++) {
      const p = await peer(c, a)
      seen.add(`${p.state}:${p.state_reason ?? ''}`)
      await new Promise((r) => setTimeout(r, 200))
    }
    // (states seen: disconnected:dead_peer, connecting:…, disconnected:connect EHOSTUNREACH / connect timed out, …)
    expect([...seen].some((s) => s.startsWith('connecting:'))).toBe(true)
    expect([...seen].some((s) => /^disconnected:(connect |dead_peer|timeout)/.test(s))).toBe(true)
    expect((await peer(c, a)).state).not.toBe('connected')

    // And A and B keep talking in the room meanwhile, C queued
    for (let i = 0; i < 6; i++) {
      const from = i % 2 ? b : a
      const sent = await call(from, (x) => x.roomSend({room_id: room.id, text: `during the cut ${i}`}))
      expect(sent.queued_for).toEqual([c.id])
    }

    // When the link heals
    ip('-n', hub, 'link', 'set', 'vh-c', 'up')
    // Then every session comes back, counted as a reconnect
    await connected(a, c)
    await connected(c, a)
    await connected(b, c)
    await connected(c, b)
    expect((await peer(a, c)).stats.reconnects).toBeGreaterThan(reconnectsBefore)
    expect((await peer(c, a)).stats.reconnects).toBeGreaterThanOrEqual(1)
    // And C holds every message exactly once, in the same order as A
    await waitFor('c caught up', async () => (await texts(c, room.id)).length === 7, 20_000)
    await new Promise((r) => setTimeout(r, 1500))
    const cMessages = await texts(c, room.id)
    expect(new Set(cMessages.map((m) => m.id)).size).toBe(7)
    expect(cMessages).toEqual(await texts(a, room.id))
    expect(await texts(b, room.id)).toEqual(cMessages)
  }, 120_000)
})
