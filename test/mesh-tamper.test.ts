// A flipped bit on the wire between two real mesh daemons: the receiver drops the session, ledgers
// why, delivers nothing of the tampered message, and the pair recovers on the next dial.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {meshApi} from '../src/daemons/mesh/api.js'
import {loadMeshKeys} from '../src/daemons/mesh/identity.js'
import {openLedger, type LedgerEvent} from '../src/lib/ledger/ledger.js'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'
import {flippingProxy} from './helpers/noise-peers.js'

interface Node {
  env: TestEnv
  mesh: DaemonProcess
  id: string
}
let A: Node
let B: Node
let proxy: Awaited<ReturnType<typeof flippingProxy>>

async function start(): Promise<Node> {
  const env = await testEnv()
  writeFileSync(join(env.paths.configDir, 'mesh.json'), JSON.stringify({reconnect: {initialSecs: 0.2, factor: 2, maxSecs: 1, jitter: 0.2, resetAfterSecs: 60}}))
  const mesh = await env.start('mesh')
  return {env, mesh, id: loadMeshKeys(env.paths).doc.instance_id}
}
async function call<T>(n: Node, fn: (c: ReturnType<typeof client>) => Promise<T>): Promise<T> {
  const c = client(n)
  try {
    return await fn(c)
  } finally {
    c.close()
  }
}
const client = (n: Node) => n.env.client('mesh', meshApi)
function events(n: Node, type: string): LedgerEvent[] {
  const ledger = openLedger(n.env.paths.ledgerDb, {readonly: true})
  try {
    return ledger.query({type, limit: 1000, order: 'asc'})
  } finally {
    ledger.close()
  }
}
async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
const connected = (n: Node, peerId: string) => call(n, (c) => c.peers({})).then((r) => r.peers.find((p) => p.id === peerId)?.state === 'connected')
const chatsFrom = (n: Node, peerId: string) => events(n, 'mesh.message_received').filter((e) => e.payload.peer_id === peerId && e.payload.type === 'chat')

beforeAll(async () => {
  A = await start()
  B = await start()
  // B reaches A only through a proxy that can flip one bit of what B sends
  const health = await call(A, (c) => c.health({}))
  proxy = await flippingProxy(Number(String(health.listen_address).split(':').at(-1)))
  const invite = await call(A, (c) => c.inviteCreate({endpoint: `127.0.0.1:${proxy.port}`}))
  await call(B, (c) => c.inviteAccept({invite_code: invite.invite_code}))
  await waitFor('B connected to A', () => connected(B, A.id))
  await waitFor('A connected to B', () => connected(A, B.id))
}, 60_000)

afterAll(async () => {
  proxy?.close()
  for (const n of [B, A]) {
    await n?.mesh.stopClean()
    await n?.env.cleanup()
  }
})

describe('a flipped bit between two mesh daemons', () => {
  it('drops the session with decrypt_failed in the ledger, delivers nothing, and the pair recovers', async () => {
    // Given a connected pair whose first chat arrives
    await call(B, (c) => c.peerSend({peer_id: A.id, message: {type: 'chat', text: 'before'}}))
    await waitFor('first chat at A', () => chatsFrom(A, B.id).length === 1)
    const disconnectsBefore = events(A, 'mesh.peer_disconnected').length
    // When one bit of the next B→A transport frame is flipped (inside its ciphertext, past the 2-byte length)
    proxy.arm(5)
    await call(B, (c) => c.peerSend({peer_id: A.id, message: {type: 'chat', text: 'tampered'}}))
    // Then A closes the session and ledgers the reason, and the tampered chat is never delivered
    const dropped = await waitFor('A ledgers the disconnect', () => events(A, 'mesh.peer_disconnected').slice(disconnectsBefore).find((e) => e.payload.peer_id === B.id))
    expect(dropped.payload.reason).toBe('decrypt_failed')
    expect(chatsFrom(A, B.id)).toHaveLength(1)
    // And B re-dials through the (now honest) proxy; the next chat arrives exactly once
    await waitFor('reconnected', async () => (await connected(B, A.id)) && (await connected(A, B.id)))
    await call(B, (c) => c.peerSend({peer_id: A.id, message: {type: 'chat', text: 'after'}}))
    await waitFor('second chat at A', () => chatsFrom(A, B.id).length === 2)
    await new Promise((r) => setTimeout(r, 500))
    expect(chatsFrom(A, B.id)).toHaveLength(2)
  }, 60_000)
})
