import {generateKeyPairSync, randomBytes, type KeyObject} from 'node:crypto'
import {rawEd25519PublicKey} from '../../src/lib/ledger/checkpoint.js'
import {instanceIdFor} from '../../src/lib/identity.js'
import type {PeerLink} from '../../src/daemons/mesh/link.js'

type Handler = (peerId: string, message: Record<string, unknown>) => void | Promise<void>

/** One node on the fake mesh: its PeerLink plus the keys a real node would load from identity/. */
export interface FakeNode {
  id: string
  link: PeerLink
  signingKey: KeyObject
  ed25519: Buffer
  /** Every message this node received, in arrival order, as [from, message]. */
  received: [string, Record<string, unknown>][]
}

/**
 * An in-memory mesh: nodes pin each other with `pair`, sessions come and go with `connect` /
 * `disconnect`, and every message crosses a JSON round trip (as on the wire) and is delivered
 * asynchronously, in order per direction. `settle()` waits until nothing is in flight.
 */
export function createFakeMesh() {
  const nodes = new Map<string, FakeNode & {handlers: Map<string, Handler>; onConnect: ((peer: string) => void)[]; pins: Set<string>}>()
  const sessions = new Set<string>()
  let inFlight = 0
  let idle: (() => void)[] = []
  const key = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`)
  const errors: unknown[] = []

  const done = () => {
    inFlight--
    if (inFlight === 0) {
      const waiting = idle
      idle = []
      for (const resolve of waiting) resolve()
    }
  }

  const deliver = (from: string, to: string, message: Record<string, unknown>) => {
    const target = nodes.get(to)
    if (!target) return
    const copy = JSON.parse(JSON.stringify(message)) as Record<string, unknown>
    inFlight++
    setImmediate(() => {
      target.received.push([from, copy])
      const handler = typeof copy.type === 'string' ? target.handlers.get(copy.type) : undefined
      Promise.resolve()
        .then(() => handler?.(from, copy))
        .catch((error: unknown) => errors.push(error))
        .finally(done)
    })
  }

  return {
    /** Handler errors (a module must never throw out of a handler; tests assert this stays empty). */
    errors,
    addNode(): FakeNode {
      const {privateKey} = generateKeyPairSync('ed25519')
      const id = instanceIdFor(randomBytes(32))
      const noiseStatic = randomBytes(32)
      const handlers = new Map<string, Handler>()
      const onConnect: ((peer: string) => void)[] = []
      const pins = new Set<string>()
      const node = {
        id,
        signingKey: privateKey,
        ed25519: rawEd25519PublicKey(privateKey),
        received: [] as [string, Record<string, unknown>][],
        handlers,
        onConnect,
        pins,
        link: {
          selfId: id,
          async send(peerId: string, message: Record<string, unknown>) {
            if (!sessions.has(key(id, peerId))) return false
            deliver(id, peerId, message)
            return true
          },
          connectedPeerIds: () => [...pins].filter((p) => sessions.has(key(id, p))),
          peerKeys(peerId: string) {
            const peer = nodes.get(peerId)
            return pins.has(peerId) && peer ? {ed25519: peer.ed25519, noiseStatic} : undefined
          },
          onMessage(type: string, handler: Handler) {
            handlers.set(type, handler)
          },
          onPeerConnected(handler: (peer: string) => void) {
            onConnect.push(handler)
          },
        } satisfies PeerLink,
      }
      nodes.set(id, node)
      return node
    },
    /** Both nodes pin each other (what an accepted invite does). */
    pair(a: FakeNode, b: FakeNode) {
      nodes.get(a.id)?.pins.add(b.id)
      nodes.get(b.id)?.pins.add(a.id)
    },
    /** Opens the session and fires onPeerConnected on both sides. */
    connect(a: FakeNode, b: FakeNode) {
      sessions.add(key(a.id, b.id))
      for (const [self, other] of [[a, b], [b, a]] as const) for (const h of nodes.get(self.id)?.onConnect ?? []) h(other.id)
    },
    disconnect(a: FakeNode, b: FakeNode) {
      sessions.delete(key(a.id, b.id))
    },
    /** Delivers a raw message as if `from`'s authenticated session had sent it (bad-input tests). */
    inject(from: FakeNode | string, to: FakeNode, message: Record<string, unknown>) {
      deliver(typeof from === 'string' ? from : from.id, to.id, message)
    },
    /** Resolves once every delivery and the handlers it started have finished. */
    async settle(rounds = 3): Promise<void> {
      for (let i = 0; i < rounds; i++) {
        if (inFlight > 0) await new Promise<void>((resolve) => idle.push(resolve))
        await new Promise((resolve) => setImmediate(resolve))
      }
    },
  }
}

/** The fake mesh's type. */
export type FakeMesh = ReturnType<typeof createFakeMesh>
