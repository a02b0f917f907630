import net from 'node:net'
import type {Ledger} from '../../lib/ledger/ledger.js'
import type {Logger} from '../../lib/log.js'
import {NoiseError, secureSession as realSecureSession, type SecureSession} from '../../lib/noise/session.js'
import {createIpRateLimiter, createOncePerWindow, reconnectDelayMs} from './backoff.js'
import type {MeshConfig} from './config.js'
import {buildPayload, HandshakeRejected, type HandshakePayload} from './handshake.js'
import {authenticateInbound, authenticateOutbound, keepNewSession} from './peer-auth.js'
import {connectTcp} from './tcp.js'
import type {MeshKeys} from './identity.js'
import {createPeerLink, type Handler} from './peer-link.js'
import type {MeshStore, PeerCounters} from './store.js'

type Direction = 'inbound' | 'outbound'

interface Live {
  session: SecureSession
  initiator: string
  establishedAt: number
  /** Counters already added to mesh.db for this session. */
  flushed: PeerCounters
}

interface Runtime {
  live: Live | null
  state: 'disconnected' | 'connecting' | 'connected' | 'failed'
  reason: string | null
  connectedSince: string | null
  attempt: number
  timer: NodeJS.Timeout | null
  resetTimer: NodeJS.Timeout | null
  dialing: boolean
  everConnected: boolean
}

/** What the connection manager needs. */
export interface ConnectionDeps {
  keys: () => MeshKeys
  store: MeshStore
  ledger: Ledger
  config: () => MeshConfig
  log: Logger
  /** The endpoint this node announces in handshakes (publicEndpoint or its listen address). */
  advertisedEndpoint: () => string | null
  /** Where an inbound application message goes after parsing (core types, fleet, plug-ins). */
  dispatch: (peerId: string, message: Record<string, unknown>) => Promise<void>
  /** Shared with dispatch: messages ignored for an unknown type / closed or dropped as malformed. */
  counters: {unknown: number; invalid: number}
  secureSession?: typeof realSecureSession
  now?: () => Date
  random?: () => number
}

const ZERO: PeerCounters = {messages_sent: 0, messages_received: 0, bytes_sent: 0, bytes_received: 0}

/**
 * Owns every TCP connection of mesh: the listener with its accept limits, one dial in flight per
 * peer with capped exponential back-off, the simultaneous-dial rule, and the live Noise sessions
 * that the PeerLink sends on.
 */
export function createConnectionManager(deps: ConnectionDeps) {
  const {store, ledger, log, counters} = deps
  const secureSession = deps.secureSession ?? realSecureSession
  const now = deps.now ?? (() => new Date())
  const runtimes = new Map<string, Runtime>()
  const handshakeSockets = new Set<net.Socket>()
  const limiter = createIpRateLimiter(() => deps.config().perIpPerMinute)
  const rejectionLedgered = createOncePerWindow(60_000)
  const connectedHandlers: ((peerId: string) => void)[] = []
  const handlers = new Map<string, Handler>()
  let server: net.Server | null = null
  let listening: {address: string; port: number} | null = null
  let stopped = false
  let inFlight = 0

  const selfId = () => deps.keys().doc.instance_id
  const rt = (peerId: string): Runtime => {
    let r = runtimes.get(peerId)
    if (!r) {
      r = {live: null, state: 'disconnected', reason: null, connectedSince: null, attempt: 0, timer: null, resetTimer: null, dialing: false, everConnected: false}
      runtimes.set(peerId, r)
    }
    return r
  }

  const sessionOptions = () => {
    const c = deps.config()
    return {timeoutMs: c.handshakeTimeoutSecs * 1000, maxMessageBytes: c.maxMessageBytes, rekeyEveryMessages: c.rekeyEveryMessages, rekeyEverySecs: c.rekeyEverySecs, heartbeatMs: c.heartbeatSecs * 1000, deadAfterMs: c.deadAfterSecs * 1000}
  }

  const recordRejection = (reason: string, remoteAddr: string) => {
    log.info('handshake rejected', {reason, remote_addr: remoteAddr})
    if (rejectionLedgered(remoteAddr)) ledger.append({type: 'mesh.handshake_rejected', actor: 'mesh', payload: {reason, remote_addr: remoteAddr}})
  }

  const noiseReason = (error: unknown): string => {
    if (error instanceof HandshakeRejected) return error.reason
    if (error instanceof NoiseError) return error.code === 'HANDSHAKE_TIMEOUT' ? 'timeout' : error.code.toLowerCase()
    return 'handshake_failed'
  }

  const flush = (peerId: string, live: Live) => {
    const s = live.session.stats
    const delta = {messages_sent: s.messagesSent - live.flushed.messages_sent, messages_received: s.messagesReceived - live.flushed.messages_received, bytes_sent: s.bytesSent - live.flushed.bytes_sent, bytes_received: s.bytesReceived - live.flushed.bytes_received}
    live.flushed = {messages_sent: s.messagesSent, messages_received: s.messagesReceived, bytes_sent: s.bytesSent, bytes_received: s.bytesReceived}
    store.addCounters(peerId, delta, now().toISOString())
  }

  const scheduleDial = (peerId: string, delayMs?: number) => {
    const r = rt(peerId)
    if (stopped || r.live || r.dialing || r.timer) return
    const peer = store.getPeer(peerId)
    if (!peer?.endpoint) return
    const wait = delayMs ?? reconnectDelayMs(deps.config().reconnect, r.attempt++, deps.random)
    r.timer = setTimeout(() => {
      r.timer = null
      void dial(peerId)
    }, wait)
    r.timer.unref?.()
  }

  const adopt = (peerId: string, session: SecureSession, direction: Direction, payload: HandshakePayload) => {
    const r = rt(peerId)
    const initiator = direction === 'outbound' ? selfId() : peerId
    if (stopped || !store.getPeer(peerId)) {
      session.close()
      return
    }
    if (r.live) {
      if (!keepNewSession(selfId(), peerId, r.live, initiator, Date.now())) {
        log.debug('duplicate session closed (simultaneous dial)', {peer_id: peerId, direction})
        session.close()
        return
      }
      const old = r.live
      r.live = null
      flush(peerId, old)
      old.session.close()
    }
    const live: Live = {session, initiator, establishedAt: Date.now(), flushed: {...ZERO}}
    r.live = live
    if (r.timer) clearTimeout(r.timer)
    r.timer = null
    const at = now().toISOString()
    r.state = 'connected'
    r.reason = null
    r.connectedSince = at
    if (r.everConnected) store.bumpReconnects(peerId)
    r.everConnected = true
    store.markSeen(peerId, at, payload.endpoint ?? null)
    if (r.resetTimer) clearTimeout(r.resetTimer)
    r.resetTimer = setTimeout(() => {
      if (r.live === live) r.attempt = 0
    }, deps.config().reconnect.resetAfterSecs * 1000)
    r.resetTimer.unref?.()
    ledger.append({type: 'mesh.peer_connected', actor: 'mesh', payload: {peer_id: peerId, direction}})
    let inbox: Promise<void> = Promise.resolve()
    session.onMessage((data) => {
      if (r.live !== live) return
      let message: unknown
      try {
        message = JSON.parse(data.toString('utf8'))
      } catch {
        message = null
      }
      if (message === null || typeof message !== 'object' || Array.isArray(message) || typeof (message as {type?: unknown}).type !== 'string') {
        counters.invalid++
        log.warn('closing session: application message is not a JSON object with a type', {peer_id: peerId, bytes: data.length})
        session.close()
        return
      }
      // One message at a time per session, so watch and plug-ins see a peer's messages in order.
      inbox = inbox
        .then(() => deps.dispatch(peerId, message as Record<string, unknown>))
        .catch((error: unknown) => log.error('inbound message handler failed', {peer_id: peerId, error: (error as Error).message}))
    })
    session.onClose((error) => {
      if (r.live !== live) return
      r.live = null
      flush(peerId, live)
      r.state = 'disconnected'
      r.reason = error ? error.code.toLowerCase() : 'closed'
      r.connectedSince = null
      ledger.append({type: 'mesh.peer_disconnected', actor: 'mesh', payload: {peer_id: peerId, reason: r.reason}})
      scheduleDial(peerId)
    })
    for (const handler of connectedHandlers) {
      try {
        handler(peerId)
      } catch (error) {
        log.error('peer-connected handler failed', {peer_id: peerId, error: (error as Error).message})
      }
    }
  }

  const onInbound = (socket: net.Socket) => {
    const remote = socket.remoteAddress ?? 'unknown'
    socket.on('error', () => {})
    if (stopped) return void socket.destroy()
    if (inFlight >= deps.config().maxConcurrentHandshakes) {
      recordRejection('too_many_handshakes', remote)
      return void socket.destroy()
    }
    if (!limiter.take(remote)) {
      recordRejection('rate_limited', remote)
      return void socket.destroy()
    }
    inFlight++
    handshakeSockets.add(socket)
    let payload: HandshakePayload | null = null
    let rejection: HandshakeRejected | null = null
    secureSession(socket, {
      role: 'responder',
      staticKey: deps.keys().noise,
      ...sessionOptions(),
      makePayload: (h) => buildPayload(deps.keys(), h, {endpoint: deps.advertisedEndpoint()}),
      verifyPeer: (remoteStatic, raw, h) => {
        try {
          payload = authenticateInbound({store, ledger, selfId: selfId(), now: now()}, remoteStatic, raw, h)
        } catch (error) {
          rejection = error instanceof HandshakeRejected ? error : new HandshakeRejected('verify_failed')
          throw rejection
        }
      },
    })
      .then((session) => {
        const accepted = payload as HandshakePayload | null
        if (!accepted) throw new HandshakeRejected('no_payload')
        adopt(accepted.identity.instance_id, session, 'inbound', accepted)
      })
      .catch((error: unknown) => {
        socket.destroy()
        if (!stopped) recordRejection(rejection?.reason ?? noiseReason(error), remote)
      })
      .finally(() => {
        inFlight--
        handshakeSockets.delete(socket)
      })
  }

  const dial = async (peerId: string): Promise<void> => {
    const r = rt(peerId)
    const peer = store.getPeer(peerId)
    if (stopped || r.live || r.dialing || !peer?.endpoint) return
    r.dialing = true
    r.state = 'connecting'
    const failure: {rejection: HandshakeRejected | null} = {rejection: null}
    try {
      const socket = await connectTcp(peer.endpoint, deps.config().handshakeTimeoutSecs * 1000)
      handshakeSockets.add(socket)
      let accepted: HandshakePayload | null = null
      try {
        const session = await secureSession(socket, {
          role: 'initiator',
          staticKey: deps.keys().noise,
          ...sessionOptions(),
          makePayload: (h) =>
            buildPayload(deps.keys(), h, {
              endpoint: deps.advertisedEndpoint(),
              invite: peer.invite_secret && peer.invite_id ? {id: peer.invite_id, secret: Buffer.from(peer.invite_secret, 'base64url')} : undefined,
            }),
          verifyPeer: (remoteStatic, raw) => {
            try {
              const payload = authenticateOutbound(store, peerId, remoteStatic, raw)
              accepted = payload
            } catch (error) {
              failure.rejection = error instanceof HandshakeRejected ? error : new HandshakeRejected('verify_failed')
              throw failure.rejection
            }
          },
        })
        r.dialing = false
        adopt(peerId, session, 'outbound', accepted as unknown as HandshakePayload)
      } finally {
        handshakeSockets.delete(socket)
        if (!r.live) socket.destroy()
      }
    } catch (error) {
      r.dialing = false
      if (stopped) return
      const rejection = failure.rejection
      r.state = rejection ? 'failed' : 'disconnected'
      r.reason = rejection ? rejection.reason : noiseReason(error) === 'handshake_failed' ? ((error as Error).message || 'dial_failed').slice(0, 200) : noiseReason(error)
      if (rejection) recordRejection(rejection.reason, peer.endpoint)
      scheduleDial(peerId)
    } finally {
      r.dialing = false
    }
  }

  const link = createPeerLink({
    selfId,
    session: (peerId) => runtimes.get(peerId)?.live?.session,
    connectedPeerIds: () => [...runtimes.entries()].filter(([, r]) => r.live).map(([id]) => id),
    store,
    handlers,
    connectedHandlers,
  })

  return {
    link,
    counters,
    /** Handler a plug-in registered for this message type. */
    handlerFor: (type: string) => handlers.get(type),
    /** Binds the listener; a bind failure rejects (mesh fails start). */
    async listen(): Promise<{address: string; port: number}> {
      const c = deps.config()
      server = net.createServer(onInbound)
      server.maxConnections = c.maxConcurrentHandshakes * 4 + 1024
      await new Promise<void>((resolve, reject) => {
        server?.once('error', reject)
        server?.listen(c.listenPort, c.listenAddress, () => resolve())
      })
      server.on('error', (error) => log.error('mesh listener error', {error: error.message}))
      const address = server.address() as net.AddressInfo
      listening = {address: address.address, port: address.port}
      return listening
    },
    listening: () => listening,
    /** Dials every known peer with an endpoint (at start, without waiting). */
    start() {
      for (const peer of store.listPeers()) if (peer.endpoint) scheduleDial(peer.id, 0)
    },
    /** Dials a peer now (after invite accept, key rotation). */
    dialSoon: (peerId: string) => {
      const r = rt(peerId)
      if (r.timer) clearTimeout(r.timer)
      r.timer = null
      scheduleDial(peerId, 0)
    },
    view(peerId: string) {
      const r = runtimes.get(peerId)
      const live = r?.live?.session.stats
      return {
        state: r?.state ?? 'disconnected',
        reason: r?.reason ?? null,
        connectedSince: r?.connectedSince ?? null,
        live: live ? {messages_sent: live.messagesSent - (r?.live?.flushed.messages_sent ?? 0), messages_received: live.messagesReceived - (r?.live?.flushed.messages_received ?? 0), bytes_sent: live.bytesSent - (r?.live?.flushed.bytes_sent ?? 0), bytes_received: live.bytesReceived - (r?.live?.flushed.bytes_received ?? 0)} : ZERO,
      }
    },
    handshakesInFlight: () => inFlight,
    /** Closes a peer's session and forgets its timers (peer removed or re-pinned). */
    drop(peerId: string) {
      const r = runtimes.get(peerId)
      if (!r) return
      runtimes.delete(peerId)
      if (r.timer) clearTimeout(r.timer)
      if (r.resetTimer) clearTimeout(r.resetTimer)
      const live = r.live
      r.live = null
      if (live) {
        if (store.getPeer(peerId)) flush(peerId, live)
        live.session.close()
      }
    },
    /** Closes every session; peers redial with back-off (after a key rotation). */
    closeAll() {
      for (const [peerId, r] of runtimes) {
        const live = r.live
        if (!live) continue
        r.live = null
        flush(peerId, live)
        r.state = 'disconnected'
        r.reason = 'key_rotated'
        live.session.close()
        scheduleDial(peerId, 200)
      }
    },
    async stop() {
      stopped = true
      for (const [peerId, r] of runtimes) {
        if (r.timer) clearTimeout(r.timer)
        if (r.resetTimer) clearTimeout(r.resetTimer)
        if (r.live) {
          flush(peerId, r.live)
          r.live.session.close()
          r.live = null
        }
      }
      for (const socket of handshakeSockets) socket.destroy()
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
    },
  }
}

/** The connection manager. */
export type ConnectionManager = ReturnType<typeof createConnectionManager>
