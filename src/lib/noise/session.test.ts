import {randomBytes} from 'node:crypto'
import {once} from 'node:events'
import {describe, expect, it} from 'vitest'
import {closeReason, decryptAll, dial, listen, newStaticKey, rawInitiator, rawPair, sessionOptions, sessionPair} from '../../../test/helpers/noise-peers.js'
import {ML_KEM_768} from './kem.js'
import {type Kem, type SecureSession, NoiseError, secureSession} from './session.js'

const collect = (session: SecureSession, count: number): Promise<Buffer[]> =>
  new Promise((resolve) => {
    const got: Buffer[] = []
    session.onMessage((m) => {
      got.push(m)
      if (got.length === count) resolve(got)
    })
  })

describe('secureSession over TCP (XXhfs, SPEC §2.5)', () => {
  it('authenticates both statics, binds payloads to h, and agrees on the handshake hash', async () => {
    // Given two nodes whose payloads carry the h they were given
    const seen: {side: string; remote: Buffer; payload: string; h: Buffer}[] = []
    const made: Record<string, Buffer> = {}
    const side = (name: string) => ({
      makePayload: (h: Buffer) => ((made[name] = h), Buffer.from(`${name}:${h.toString('hex')}`)),
      verifyPeer: (remote: Buffer, payload: Buffer, h: Buffer) => void seen.push({side: name, remote, payload: payload.toString(), h}),
    })
    const init = {...side('initiator'), staticKey: newStaticKey()}
    const resp = {...side('responder'), staticKey: newStaticKey()}
    // When they handshake
    const {initiator, responder, close} = await sessionPair(init, resp)
    try {
      // Then each saw the other's static key and payload, with the h the sender used
      expect(initiator.remoteStatic.equals(resp.staticKey.publicKey)).toBe(true)
      expect(responder.remoteStatic.equals(init.staticKey.publicKey)).toBe(true)
      const atInitiator = seen.find((s) => s.side === 'initiator')!
      const atResponder = seen.find((s) => s.side === 'responder')!
      expect(atInitiator.payload).toBe(`responder:${made.responder!.toString('hex')}`)
      expect(atInitiator.h.equals(made.responder!)).toBe(true)
      expect(atResponder.h.equals(made.initiator!)).toBe(true)
      expect(made.initiator!.equals(made.responder!)).toBe(false)
      expect(initiator.handshakeHash.equals(responder.handshakeHash)).toBe(true)
    } finally {
      close()
    }
  })

  it('runs the KEM through the Kem interface it is given (the seam for a native ML-KEM)', async () => {
    // Given both sides using a counting wrapper around ML-KEM-768
    const calls: string[] = []
    const counting: Kem = {
      ...ML_KEM_768,
      generateKeyPair: (seed) => (calls.push('keygen'), ML_KEM_768.generateKeyPair(seed)),
      encapsulate: (pk, seed) => (calls.push('encaps'), ML_KEM_768.encapsulate(pk, seed)),
      decapsulate: (ct, sk) => (calls.push('decaps'), ML_KEM_768.decapsulate(ct, sk)),
    }
    // When they handshake Then exactly one keygen, one encaps and one decaps ran through it
    const {close} = await sessionPair({kem: counting}, {kem: counting})
    close()
    expect(calls.sort()).toEqual(['decaps', 'encaps', 'keygen'])
    // And a KEM of another name is refused rather than silently mixed in
    await expect(sessionPair({kem: {...counting, name: 'MLKEM1024'}}, {timeoutMs: 500})).rejects.toMatchObject({code: 'HANDSHAKE_FAILED'})
  })

  it('echoes small, empty and multi-fragment (1 MiB, 65518-byte boundary) messages intact and in order', async () => {
    // Given a responder that echoes everything
    const {initiator, responder, close} = await sessionPair()
    responder.onMessage((m) => void responder.send(m))
    try {
      const messages = [Buffer.from('{"type":"chat","text":"hi"}'), Buffer.alloc(0), randomBytes(65518), randomBytes(65519), randomBytes(1 << 20)]
      const echoed = collect(initiator, messages.length)
      // When the initiator sends them without waiting
      await Promise.all(messages.map((m) => initiator.send(m)))
      // Then every one comes back byte for byte
      const got = await echoed
      got.forEach((m, i) => expect(m.equals(messages[i]!), `message ${i}`).toBe(true))
      expect(initiator.stats).toMatchObject({messagesSent: 5, messagesReceived: 5, bytesSent: messages.reduce((n, m) => n + m.length, 0)})
    } finally {
      close()
    }
  })

  it('keeps working across rekeys by message count in both directions', async () => {
    // Given sessions that rekey after every 3 transport messages
    const {initiator, responder, close} = await sessionPair({rekeyEveryMessages: 3}, {rekeyEveryMessages: 3})
    responder.onMessage((m) => void responder.send(m))
    try {
      const messages = Array.from({length: 25}, (_, i) => randomBytes(i % 5 === 0 ? 200_000 : 10 + i))
      const echoed = collect(initiator, messages.length)
      // When 25 messages (some multi-fragment) go there and back
      for (const m of messages) await initiator.send(m)
      const got = await echoed
      // Then all arrive intact and both sides rekeyed sending and receiving keys many times
      got.forEach((m, i) => expect(m.equals(messages[i]!), `message ${i}`).toBe(true))
      expect(initiator.stats.rekeys).toBeGreaterThan(10)
      expect(responder.stats.rekeys).toBeGreaterThan(10)
    } finally {
      close()
    }
  })

  it('rekeys by age: a rekey control message then a new key, invisible to the application', async () => {
    // Given a hand-driven peer and a responder whose sending key lives 1 s
    const {peer, responder, close} = await rawPair({rekeyEverySecs: 1})
    try {
      await responder.send(Buffer.from('one'))
      await new Promise((r) => setTimeout(r, 1100))
      // When it sends again after its key expired
      await responder.send(Buffer.from('two'))
      await new Promise((r) => setTimeout(r, 100))
      // Then the wire carries "one", a rekey, then "two" under Rekey()'d key
      const [one, rekey] = decryptAll({recv: peer.recv, frames: peer.frames.splice(0, 2)})
      expect(one!.subarray(1).toString()).toBe('one')
      expect(rekey!.toString()).toBe('\x00{"type":"rekey"}')
      peer.recv.rekey()
      expect(decryptAll(peer).map((p) => p.subarray(1).toString())).toEqual(['two'])
      expect(responder.stats.rekeys).toBe(1)
    } finally {
      close()
    }
  })

  it('holds messages that arrive before onMessage is registered', async () => {
    // Given a raw peer that sends right after its last handshake message
    const server = await listen()
    const [, responder] = await Promise.all([
      rawInitiator(server.port).then((peer) => peer.writeTransport(Buffer.from('\x00early'))),
      server.accepted().then((s) => secureSession(s, sessionOptions({role: 'responder'}))),
    ])
    await new Promise((r) => setTimeout(r, 100))
    try {
      // When the application registers its listener late
      const got = await collect(responder, 1)
      // Then the early message is delivered, not lost
      expect(got[0]!.toString()).toBe('early')
    } finally {
      responder.close()
      server.close()
    }
  })

  it('sends pings when idle, answers pings with pongs, and never delivers either', async () => {
    // Given a responder with a 50 ms heartbeat facing a hand-driven peer
    const {peer, responder, close} = await rawPair({heartbeatMs: 50, deadAfterMs: 5000})
    const delivered: Buffer[] = []
    responder.onMessage((m) => delivered.push(m))
    try {
      // When the peer pings once and stays quiet for 400 ms
      peer.writeTransport(Buffer.from('\x00{"type":"ping"}'))
      await new Promise((r) => setTimeout(r, 400))
      // Then the responder answered with a pong and sent its own pings; nothing reached the application
      const seen = decryptAll(peer).map((p) => p.subarray(1).toString())
      expect(seen).toContain('{"type":"pong"}')
      expect(seen.filter((s) => s === '{"type":"ping"}').length).toBeGreaterThanOrEqual(2)
      expect(delivered).toEqual([])
    } finally {
      close()
    }
  })

  it('two live sessions with short timers stay up: heartbeats keep each other alive', async () => {
    // Margins are wide (heartbeat 50 ms, dead after 600 ms) because CI machines stall event loops under load
    const {initiator, responder, close} = await sessionPair({heartbeatMs: 50, deadAfterMs: 600}, {heartbeatMs: 50, deadAfterMs: 600})
    try {
      let closed = false
      initiator.onClose(() => (closed = true))
      responder.onClose(() => (closed = true))
      // When both stay idle for three dead-peer periods Then neither closes
      await new Promise((r) => setTimeout(r, 1800))
      expect(closed).toBe(false)
      await initiator.send(Buffer.from('still here'))
    } finally {
      close()
    }
  })

  it('closes with DEAD_PEER when the peer goes silent', async () => {
    // Given a responder facing a peer that finishes the handshake and then says nothing
    const {peer, responder, close} = await rawPair({heartbeatMs: 40, deadAfterMs: 200})
    const started = Date.now()
    // When deadAfterMs passes Then the session closes with DEAD_PEER and the socket is gone
    const reason = await closeReason(responder)
    expect(reason).toBeInstanceOf(NoiseError)
    expect((reason as NoiseError).code).toBe('DEAD_PEER')
    expect(Date.now() - started).toBeGreaterThanOrEqual(190)
    await peer.closed
    await expect(responder.send(Buffer.from('x'))).rejects.toMatchObject({code: 'CLOSED'})
    close()
  })

  it('close() ends both sides: local null, remote CLOSED, later sends reject', async () => {
    const {initiator, responder, close} = await sessionPair()
    try {
      const local = closeReason(initiator)
      const remote = closeReason(responder)
      initiator.close()
      expect(await local).toBeNull()
      expect(await remote).toMatchObject({code: 'CLOSED'})
      await expect(initiator.send(Buffer.from('late'))).rejects.toMatchObject({code: 'CLOSED'})
      // And a listener registered after the close still hears it, once
      expect(await closeReason(initiator)).toBeNull()
    } finally {
      close()
    }
  })

  it('refuses to send a message over maxMessageBytes without closing', async () => {
    const {initiator, close} = await sessionPair({maxMessageBytes: 1000})
    try {
      await expect(initiator.send(Buffer.alloc(1001))).rejects.toMatchObject({code: 'MESSAGE_TOO_LARGE'})
      await initiator.send(Buffer.alloc(1000))
    } finally {
      close()
    }
  })

  it('rejects bad options before touching the socket', async () => {
    const server = await listen()
    const socket = await dial(server.port)
    try {
      await expect(secureSession(socket, sessionOptions({timeoutMs: 0}))).rejects.toThrow(/timeoutMs/)
      await expect(secureSession(socket, sessionOptions({staticKey: {publicKey: Buffer.alloc(31), privateKey: Buffer.alloc(32)}}))).rejects.toThrow(/staticKey/)
      expect(socket.destroyed).toBe(false)
    } finally {
      socket.destroy()
      server.close()
    }
    await once(socket, 'close')
  })
})
