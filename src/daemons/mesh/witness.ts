import type {KeyObject} from 'node:crypto'
import {OsmodaError} from '../../lib/errors.js'
import {parseCheckpointNote, verifyCheckpointNote, type ParsedCheckpoint} from '../../lib/ledger/checkpoint.js'
import {ed25519PublicKeyFromRaw, signCosignature, verifyCosignature, witnessName} from '../../lib/ledger/cosignature.js'
import type {Ledger} from '../../lib/ledger/ledger.js'
import {verifyConsistency} from '../../lib/ledger/merkle.js'
import type {Logger} from '../../lib/log.js'
import type {PeerLink} from './link.js'
import type {WitnessStore} from './witness-store.js'
import {WireCheckpoint, WireConsistencyReply, WireConsistencyRequest, WireCosignature, WireHeadReply, WireHeadRequest} from './witness-wire.js'

/** What witnessing needs from this node's agentd (the ledger's owner). */
export interface AgentdLedgerPort {
  /** The latest signed checkpoint, or null before the first one. */
  latestCheckpoint(): Promise<{size: number; root_hash: string; note: string} | null>
  /** RFC 9162 consistency proof between two sizes (base64 hashes). */
  consistency(oldSize: number, newSize: number): Promise<string[]>
  /** POST /ledger/cosignatures. */
  storeCosignature(input: {size: number; root_hash: string; witness: string; witness_pubkey: string; cosignature: string; ts: string}): Promise<void>
}

/** Dependencies of the witness service. */
export interface WitnessDeps {
  link: PeerLink
  store: WitnessStore
  ledger: Pick<Ledger, 'append'>
  signingKey: KeyObject
  agentd: AgentdLedgerPort
  /** This node's ledger origin (`ledger_origin` of identity.json). */
  origin: string
  log: Logger
  settings: () => {enable: boolean; everySecs: number}
  now?: () => number
  /** How often agentd is asked whether a new checkpoint was signed (default 10 s). */
  pollMs?: number
  /** How long GET /witness/heads waits for replies (default 10 s). */
  headTimeoutMs?: number
  /** How long a witness waits for a consistency proof (default 30 s). */
  proofTimeoutMs?: number
}

/** One witnessed head of this node's ledger, as a peer reported it. */
export interface PeerHead {
  peer_id: string
  size: number
  root_hash: string
  cosignature: string
  ts: string
}

type Reason = 'malformed' | 'disabled' | 'unknown_peer' | 'bad_signature' | 'origin_claimed' | 'busy' | 'unexpected' | 'bad_proof' | 'witness_mismatch' | 'bad_cosignature' | 'store_failed'

interface Pending {
  origin: string
  offered: ParsedCheckpoint
  note: string
  signer: string
  storedSize: number
  storedRoot: Buffer
  expiresAt: number
}

/**
 * Checkpoint witnessing both ways over the PeerLink. As origin: offer agentd's latest checkpoint,
 * serve consistency proofs, hand cosignatures to agentd. As witness: check the note against the
 * pinned key, demand a consistency proof from the last head held, cosign only an append-only
 * extension, and raise `ledger.witness_conflict` for anything smaller or inconsistent.
 */
export function createWitnessService(deps: WitnessDeps) {
  const {link, store, log} = deps
  const now = deps.now ?? Date.now
  const name = () => witnessName(link.selfId)
  const pending = new Map<string, Pending>()
  const proofsInFlight = new Set<string>()
  const headWaiters = new Map<string, ((reply: PeerHead | null) => void)[]>()
  const stats = {cosigned: 0, conflicts: 0, cosignatures_stored: 0, rejected: {} as Partial<Record<Reason, number>>}
  let lastOffered = 0
  let lastOfferAt = 0

  const reject = (reason: Reason, peerId: string, detail?: string): void => {
    stats.rejected[reason] = (stats.rejected[reason] ?? 0) + 1
    log.debug('witness message dropped', {reason, peer_id: peerId, detail})
  }

  const conflict = (peerId: string, offered: ParsedCheckpoint, storedSize: number, reason: 'smaller' | 'root_differs' | 'inconsistent'): void => {
    const at = new Date(now()).toISOString()
    const root = offered.rootHash.toString('base64')
    if (!store.addConflict({origin: offered.origin, offered_size: offered.size, offered_root_hash: root, peer_id: peerId, stored_size: storedSize, reason, at})) return
    stats.conflicts++
    deps.ledger.append({type: 'ledger.witness_conflict', actor: 'mesh', payload: {origin: offered.origin, peer_id: peerId, stored_size: storedSize, offered_size: offered.size, reason}})
    deps.ledger.append({
      type: 'notification.requested',
      actor: 'mesh',
      payload: {source: 'mesh', severity: 'critical', title: `peer ${peerId} offered a ledger head that contradicts the one this node witnessed`, message: `${offered.origin}: witnessed size ${storedSize}, offered size ${offered.size} (${reason}); its ledger was truncated or rewritten. Not cosigned.`},
    })
    log.warn('witness conflict', {origin: offered.origin, peer_id: peerId, stored_size: storedSize, offered_size: offered.size, reason})
  }

  const cosign = async (peerId: string, offered: ParsedCheckpoint, note: string, signer: string): Promise<void> => {
    const root = offered.rootHash.toString('base64')
    const c = signCosignature({origin: offered.origin, size: offered.size, rootHash: offered.rootHash}, name(), deps.signingKey, now())
    store.putHead({origin: offered.origin, peer_id: peerId, signer_pubkey: signer, size: offered.size, root_hash: root, note, cosignature: c.cosignature, ts: c.ts})
    stats.cosigned++
    await link.send(peerId, {type: 'cosignature', size: offered.size, root_hash: root, witness: c.witness, cosignature: c.cosignature, ts: c.ts})
  }

  const offer = async (peers: string[]): Promise<void> => {
    if (!deps.settings().enable || peers.length === 0) return
    const latest = await deps.agentd.latestCheckpoint()
    if (!latest) return
    lastOffered = latest.size
    lastOfferAt = now()
    await Promise.all(peers.map((p) => link.send(p, {type: 'checkpoint', note: latest.note})))
  }

  // Witness side: a peer offers its latest checkpoint.
  link.onMessage('checkpoint', async (peerId, raw) => {
    const parsed = WireCheckpoint.safeParse(raw)
    if (!parsed.success) return reject('malformed', peerId)
    if (!deps.settings().enable) return reject('disabled', peerId)
    const keys = link.peerKeys(peerId)
    if (!keys) return reject('unknown_peer', peerId)
    let offered: ParsedCheckpoint
    try {
      const origin = parseCheckpointNote(parsed.data.note).origin
      offered = verifyCheckpointNote(parsed.data.note, ed25519PublicKeyFromRaw(keys.ed25519), origin)
    } catch (error) {
      return reject(error instanceof OsmodaError && error.code === 'VERIFICATION_FAILED' ? 'bad_signature' : 'malformed', peerId)
    }
    if (offered.size === 0) return reject('malformed', peerId, 'empty tree')
    const signer = keys.ed25519.toString('hex')
    const stored = store.head(offered.origin)
    // The first key seen for an origin owns it: another peer cannot poison that origin's head.
    if (stored && stored.signer_pubkey !== signer) return reject('origin_claimed', peerId, offered.origin)
    if (!stored) return cosign(peerId, offered, parsed.data.note, signer)
    const storedRoot = Buffer.from(stored.root_hash, 'base64')
    if (offered.size < stored.size) return conflict(peerId, offered, stored.size, 'smaller')
    if (offered.size === stored.size) {
      if (!offered.rootHash.equals(storedRoot)) return conflict(peerId, offered, stored.size, 'root_differs')
      await link.send(peerId, {type: 'cosignature', size: stored.size, root_hash: stored.root_hash, witness: name(), cosignature: stored.cosignature, ts: stored.ts})
      return
    }
    const inFlight = pending.get(peerId)
    if (inFlight && inFlight.expiresAt > now()) return reject('busy', peerId)
    pending.set(peerId, {origin: offered.origin, offered, note: parsed.data.note, signer, storedSize: stored.size, storedRoot, expiresAt: now() + (deps.proofTimeoutMs ?? 30_000)})
    await link.send(peerId, {type: 'consistency_request', old: stored.size, new: offered.size})
  })

  link.onMessage('consistency_reply', async (peerId, raw) => {
    const parsed = WireConsistencyReply.safeParse(raw)
    if (!parsed.success) return reject('malformed', peerId)
    const p = pending.get(peerId)
    if (!p || p.expiresAt <= now() || p.storedSize !== parsed.data.old || p.offered.size !== parsed.data.new) return reject('unexpected', peerId)
    pending.delete(peerId)
    const proof = parsed.data.hashes.map((h) => Buffer.from(h, 'base64'))
    if (!verifyConsistency(p.storedSize, p.offered.size, p.storedRoot, p.offered.rootHash, proof)) return conflict(peerId, p.offered, p.storedSize, 'inconsistent')
    await cosign(peerId, p.offered, p.note, p.signer)
  })

  link.onMessage('witness_head_request', async (peerId, raw) => {
    const parsed = WireHeadRequest.safeParse(raw)
    if (!parsed.success) return reject('malformed', peerId)
    const head = store.head(parsed.data.origin)
    await link.send(peerId, {type: 'witness_head_reply', origin: parsed.data.origin, size: head?.size ?? null, root_hash: head?.root_hash ?? null, cosignature: head?.cosignature ?? null, ts: head?.ts ?? null})
  })

  // Origin side: a witness asks for a proof, returns a cosignature, or answers a head request.
  link.onMessage('consistency_request', async (peerId, raw) => {
    const parsed = WireConsistencyRequest.safeParse(raw)
    if (!parsed.success || parsed.data.old > parsed.data.new) return reject('malformed', peerId)
    // One proof per peer at a time: each costs agentd a pass over the ledger.
    if (proofsInFlight.has(peerId)) return reject('busy', peerId)
    proofsInFlight.add(peerId)
    try {
      const hashes = await deps.agentd.consistency(parsed.data.old, parsed.data.new)
      await link.send(peerId, {type: 'consistency_reply', old: parsed.data.old, new: parsed.data.new, hashes})
    } catch (error) {
      log.warn('consistency proof failed', {peer_id: peerId, old: parsed.data.old, new: parsed.data.new, error: String(error)})
    } finally {
      proofsInFlight.delete(peerId)
    }
  })

  link.onMessage('cosignature', async (peerId, raw) => {
    const parsed = WireCosignature.safeParse(raw)
    if (!parsed.success) return reject('malformed', peerId)
    const c = parsed.data
    if (c.witness !== witnessName(peerId)) return reject('witness_mismatch', peerId, c.witness)
    const keys = link.peerKeys(peerId)
    if (!keys) return reject('unknown_peer', peerId)
    try {
      verifyCosignature({origin: deps.origin, size: c.size, rootHash: c.root_hash}, c.witness, keys.ed25519, c.cosignature)
    } catch {
      return reject('bad_cosignature', peerId)
    }
    try {
      await deps.agentd.storeCosignature({size: c.size, root_hash: c.root_hash, witness: c.witness, witness_pubkey: keys.ed25519.toString('hex'), cosignature: c.cosignature, ts: c.ts})
      stats.cosignatures_stored++
    } catch (error) {
      reject('store_failed', peerId, String(error))
      log.warn('agentd refused a cosignature', {peer_id: peerId, size: c.size, error: String(error)})
    }
  })

  link.onMessage('witness_head_reply', (peerId, raw) => {
    const parsed = WireHeadReply.safeParse(raw)
    if (!parsed.success) return reject('malformed', peerId)
    const waiters = headWaiters.get(peerId)
    if (!waiters || parsed.data.origin !== deps.origin) return reject('unexpected', peerId)
    const r = parsed.data
    const head = r.size !== null && r.root_hash !== null && r.cosignature !== null && r.ts !== null ? {peer_id: peerId, size: r.size, root_hash: r.root_hash, cosignature: r.cosignature, ts: r.ts} : null
    for (const resolve of waiters) resolve(head)
  })

  link.onPeerConnected((peerId) => {
    offer([peerId]).catch((error: unknown) => log.warn('checkpoint offer failed', {peer_id: peerId, error: String(error)}))
  })

  return {
    /** Offers the latest checkpoint to every connected peer now. */
    offerAll: () => offer(link.connectedPeerIds()),

    /** Runs the offer loop until `signal` aborts: on each new checkpoint and every witness.everySecs. */
    start(signal: AbortSignal): void {
      const tick = async () => {
        const {enable, everySecs} = deps.settings()
        if (!enable) return
        const latest = await deps.agentd.latestCheckpoint()
        if (latest && (latest.size > lastOffered || now() - lastOfferAt >= everySecs * 1000)) await offer(link.connectedPeerIds())
      }
      const timer = setInterval(() => void tick().catch((error: unknown) => log.debug('witness tick failed', {error: String(error)})), deps.pollMs ?? 10_000)
      timer.unref()
      signal.addEventListener('abort', () => clearInterval(timer), {once: true})
    },

    /** Asks every connected peer for the newest head of this node's ledger it witnessed (GET /witness/heads). */
    async heads(): Promise<{origin: string; heads: PeerHead[]}> {
      const peers = link.connectedPeerIds()
      if (peers.length === 0) throw new OsmodaError('NOT_READY', 'no peer is connected: nobody to ask for witnessed heads', {hint: 'mesh_peers shows peer states; pair with another node (mesh invite) first'})
      const answers = peers.map(
        (peer) =>
          new Promise<PeerHead | null>((resolve) => {
            const done = (head: PeerHead | null) => {
              clearTimeout(timer)
              const left = (headWaiters.get(peer) ?? []).filter((w) => w !== done)
              if (left.length) headWaiters.set(peer, left)
              else headWaiters.delete(peer)
              resolve(head)
            }
            // A peer that never answers costs one timer, and its waiter is gone afterwards.
            const timer = setTimeout(() => done(null), deps.headTimeoutMs ?? 10_000)
            headWaiters.set(peer, [...(headWaiters.get(peer) ?? []), done])
            void link.send(peer, {type: 'witness_head_request', origin: deps.origin}).then((sent) => sent || done(null))
          }),
      )
      const heads = (await Promise.all(answers)).filter((h): h is PeerHead => h !== null)
      return {origin: deps.origin, heads: heads.sort((a, b) => a.peer_id.localeCompare(b.peer_id))}
    },

    /** Counters for /health and tests. */
    stats: () => ({...stats, rejected: {...stats.rejected}, heads_held: store.heads().length}),
  }
}

/** The witness service's type. */
export type WitnessService = ReturnType<typeof createWitnessService>
