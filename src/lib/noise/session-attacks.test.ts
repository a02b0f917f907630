import {once} from 'node:events'
import {describe, expect, it} from 'vitest'
import {closeReason, dial, flippingProxy, listen, rawPair, sessionOptions, sessionPair} from '../../../test/helpers/noise-peers.js'
import {HandshakeState} from './handshake-state.js'
import {type NoiseError, MESH_PROLOGUE, MESH_PROTOCOL, secureSession} from './session.js'

const frame = (m: Buffer) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m])
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('secureSession under attack', () => {
  it('a flipped bit in a transport frame closes the receiver with DECRYPT_FAILED and delivers nothing of it', async () => {
    // Given two sessions talking through a proxy that can flip one bit
    let proxy!: Awaited<ReturnType<typeof flippingProxy>>
    const {initiator, responder, close} = await sessionPair({}, {}, async (port) => (proxy = await flippingProxy(port)).port)
    const delivered: string[] = []
    responder.onMessage((m) => delivered.push(m.toString()))
    const responderClosed = closeReason(responder)
    const initiatorClosed = closeReason(initiator)
    try {
      await initiator.send(Buffer.from('before'))
      await sleep(50)
      // When the next frame has one ciphertext bit flipped in transit
      proxy.arm(10)
      await initiator.send(Buffer.from('corrupted-message'))
      // Then the receiver closes with DECRYPT_FAILED, the sender's session ends too, and only "before" was delivered
      expect(await responderClosed).toMatchObject({code: 'DECRYPT_FAILED'})
      expect(await initiatorClosed).toMatchObject({code: 'CLOSED'})
      expect(delivered).toEqual(['before'])
    } finally {
      close()
      proxy.close()
    }
  })

  it('a flipped bit in handshake message 3 fails the responder\'s handshake', async () => {
    // Given a proxy armed to flip a bit just past message 1 (2 + 1216 bytes), i.e. inside message 3
    const server = await listen()
    const proxy = await flippingProxy(server.port)
    proxy.arm(1218 + 10)
    const socket = await dial(proxy.port)
    // When both sides handshake through it
    const [init, resp] = await Promise.allSettled([
      secureSession(socket, sessionOptions({role: 'initiator'})),
      server.accepted().then((s) => secureSession(s, sessionOptions({role: 'responder'}))),
    ])
    // Then the responder refuses (the initiator, done after message 3, is then closed by the peer)
    if (resp.status === 'fulfilled') throw new Error('responder accepted a corrupted message 3')
    expect(resp.reason).toMatchObject({code: 'HANDSHAKE_FAILED'})
    if (init.status === 'fulfilled') expect(await closeReason(init.value)).toMatchObject({code: 'CLOSED'})
    proxy.close()
    server.close()
  })

  it.each([
    {name: 'fragments adding up past maxMessageBytes', plaintexts: [Buffer.concat([Buffer.from([1]), Buffer.alloc(60000)]), Buffer.concat([Buffer.from([1]), Buffer.alloc(60000)])], code: 'MESSAGE_TOO_LARGE'},
    {name: 'an unknown fragment flag', plaintexts: [Buffer.from('\x02{"type":"chat"}')], code: 'PROTOCOL'},
    {name: 'an empty plaintext (no flag byte)', plaintexts: [Buffer.alloc(0)], code: 'PROTOCOL'},
  ])('closes on $name → $code, nothing delivered', async ({plaintexts, code}) => {
    // Given a session with a 100000-byte cap facing a hand-driven peer
    const {peer, responder, close} = await rawPair({maxMessageBytes: 100_000})
    const delivered: Buffer[] = []
    responder.onMessage((m) => delivered.push(m))
    const closed = closeReason(responder)
    try {
      // When the peer sends well-encrypted but malformed transport messages, then a valid one
      for (const p of plaintexts) peer.writeTransport(p)
      peer.writeTransport(Buffer.from('\x00{"type":"chat"}'))
      // Then the session closes with the code, the socket is gone and nothing was delivered
      expect(await closed).toMatchObject({code})
      await peer.closed
      expect(delivered).toEqual([])
    } finally {
      close()
    }
  })

  it.each([
    {name: 'a 65535-byte declared frame of garbage', wire: () => frame(Buffer.alloc(65535, 7)), code: 'DECRYPT_FAILED'},
    {name: 'a frame shorter than flag byte + tag', wire: () => frame(Buffer.alloc(16, 1)), code: 'PROTOCOL'},
    {name: 'a zero-length frame', wire: () => frame(Buffer.alloc(0)), code: 'PROTOCOL'},
  ])('closes on $name → $code', async ({wire, code}) => {
    const {peer, responder, close} = await rawPair()
    const delivered: Buffer[] = []
    responder.onMessage((m) => delivered.push(m))
    const closed = closeReason(responder)
    try {
      peer.socket.write(wire())
      expect(await closed).toMatchObject({code})
      await peer.closed
      expect(delivered).toEqual([])
    } finally {
      close()
    }
  })

  it('a message sent as 3000 one-byte fragments is still reassembled exactly', async () => {
    // Given a hand-driven peer that fragments as finely as the wire allows
    const {peer, responder, close} = await rawPair()
    const got = new Promise<Buffer>((resolve) => responder.onMessage(resolve))
    try {
      const text = Buffer.from('x'.repeat(2999) + 'y')
      // When every byte travels in its own transport message
      for (let i = 0; i < text.length; i++) peer.writeTransport(Buffer.from([i === text.length - 1 ? 0 : 1, text[i] as number]))
      // Then one message arrives, byte for byte
      expect((await got).equals(text)).toBe(true)
    } finally {
      close()
    }
  })

  it('a listener that throws on a message closes the session with PROTOCOL instead of crashing the process', async () => {
    const {peer, responder, close} = await rawPair()
    responder.onMessage(() => {
      throw new SyntaxError('bad JSON')
    })
    const closed = closeReason(responder)
    try {
      peer.writeTransport(Buffer.from('\x00{not json'))
      expect(await closed).toMatchObject({code: 'PROTOCOL', message: expect.stringContaining('bad JSON')})
      await peer.closed
    } finally {
      close()
    }
  })

  it('a replayed transport frame fails authentication (the nonce moved on)', async () => {
    const {peer, responder, close} = await rawPair()
    const delivered: string[] = []
    responder.onMessage((m) => delivered.push(m.toString()))
    const closed = closeReason(responder)
    try {
      // Given one valid frame When it is sent twice
      const ciphertext = peer.send.encryptWithAd(Buffer.alloc(0), Buffer.from('\x00once'))
      peer.writeFrame(ciphertext)
      peer.writeFrame(ciphertext)
      // Then the first is delivered and the replay closes the session
      expect(await closed).toMatchObject({code: 'DECRYPT_FAILED'})
      expect(delivered).toEqual(['once'])
    } finally {
      close()
    }
  })

  it('a peer that connects and sends nothing → HANDSHAKE_TIMEOUT, socket destroyed', async () => {
    const server = await listen()
    const silent = await dial(server.port)
    silent.on('error', () => undefined).resume()
    const started = Date.now()
    // When the responder waits for a first message that never comes
    await expect(server.accepted().then((s) => secureSession(s, sessionOptions({role: 'responder', timeoutMs: 200})))).rejects.toMatchObject({code: 'HANDSHAKE_TIMEOUT'})
    // Then it gave up after timeoutMs and the silent peer sees the connection close
    expect(Date.now() - started).toBeGreaterThanOrEqual(190)
    await once(silent, 'close')
    server.close()
  })

  it('a responder that reads message 1 and never answers → the initiator times out, not hangs', async () => {
    // Given a listening socket that accepts but never speaks Noise
    const server = await listen()
    const socket = await dial(server.port)
    const raw = await server.accepted()
    raw.on('error', () => undefined).resume()
    // When the "responder" is a socket that reads but never answers
    await expect(secureSession(socket, sessionOptions({role: 'initiator', timeoutMs: 200}))).rejects.toMatchObject({code: 'HANDSHAKE_TIMEOUT'})
    await once(raw, 'close')
    server.close()
  })

  it('a verifyPeer that never settles is cut off by timeoutMs', async () => {
    const server = await listen()
    const socket = await dial(server.port)
    const [init, resp] = await Promise.allSettled([
      secureSession(socket, sessionOptions({role: 'initiator', timeoutMs: 300, verifyPeer: () => new Promise<void>(() => undefined)})),
      server.accepted().then((s) => secureSession(s, sessionOptions({role: 'responder', timeoutMs: 2000}))),
    ])
    expect(init).toMatchObject({status: 'rejected', reason: {code: 'HANDSHAKE_TIMEOUT'}})
    expect(resp).toMatchObject({status: 'rejected', reason: {code: 'HANDSHAKE_FAILED'}})
    server.close()
  })

  it.each(['initiator', 'responder'] as const)('verifyPeer throwing on the %s → PEER_REJECTED there, both sides closed', async (rejecter) => {
    // Given one side whose verifyPeer refuses the other
    const refuse = () => {
      throw new Error('not pinned')
    }
    const server = await listen()
    const socket = await dial(server.port)
    const other = rejecter === 'initiator' ? 'responder' : 'initiator'
    const [init, resp] = await Promise.allSettled([
      secureSession(socket, sessionOptions({role: 'initiator', ...(rejecter === 'initiator' ? {verifyPeer: refuse} : {})})),
      server.accepted().then((s) => secureSession(s, sessionOptions({role: 'responder', ...(rejecter === 'responder' ? {verifyPeer: refuse} : {})}))),
    ])
    const results = {initiator: init, responder: resp}
    // Then the rejecting side reports PEER_REJECTED with the reason
    expect(results[rejecter]).toMatchObject({status: 'rejected', reason: {code: 'PEER_REJECTED', message: expect.stringContaining('not pinned')}})
    // And the other side fails its handshake, or (the initiator is done after message 3) sees its session closed
    const outcome = results[other]
    if (outcome.status === 'rejected') expect((outcome.reason as NoiseError).code).toBe('HANDSHAKE_FAILED')
    else expect(await closeReason(outcome.value)).toMatchObject({code: 'CLOSED'})
    expect(socket.destroyed || (await once(socket, 'close'), true)).toBe(true)
    server.close()
  })

  it.each([
    {name: 'a first message longer than e ‖ e1', first: () => Buffer.alloc(32 + 1184 + 1, 9), code: 'FRAME_TOO_LARGE'},
    {name: 'a first message that is too short', first: () => Buffer.alloc(100, 9), code: 'HANDSHAKE_FAILED'},
    {name: 'an ML-KEM key with coefficients ≥ q', first: () => Buffer.concat([new HandshakeState({protocol: MESH_PROTOCOL, initiator: true, prologue: MESH_PROLOGUE}).writeMessage().subarray(0, 32), Buffer.alloc(1184, 0xff)]), code: 'HANDSHAKE_FAILED'},
  ])('the responder refuses $name → $code', async ({first, code}) => {
    const server = await listen()
    const attacker = await dial(server.port)
    attacker.on('error', () => undefined).resume()
    attacker.write(frame(first()))
    await expect(server.accepted().then((s) => secureSession(s, sessionOptions({role: 'responder'})))).rejects.toMatchObject({code})
    await once(attacker, 'close')
    server.close()
  })

  it('a different prologue fails the handshake on both sides', async () => {
    const server = await listen()
    const socket = await dial(server.port)
    const [init, resp] = await Promise.allSettled([
      secureSession(socket, sessionOptions({role: 'initiator', prologue: Buffer.from('osmoda-mesh-v2')})),
      server.accepted().then((s) => secureSession(s, sessionOptions({role: 'responder'}))),
    ])
    expect(init).toMatchObject({status: 'rejected', reason: {code: 'HANDSHAKE_FAILED'}})
    expect(resp).toMatchObject({status: 'rejected', reason: {code: 'HANDSHAKE_FAILED'}})
    server.close()
  })
})
