// Real TCP on 127.0.0.1 for the Noise session tests: a session pair, a byte-flipping proxy, and a
// hand-driven peer (HandshakeState + raw frames) that can misbehave in ways the session never would.
import {once} from 'node:events'
import net from 'node:net'
import type {CipherState} from '../../src/lib/noise/cipher-state.js'
import {DH_25519} from '../../src/lib/noise/crypto-functions.js'
import {FrameReader, joinPieces} from '../../src/lib/noise/frame-reader.js'
import {HandshakeState} from '../../src/lib/noise/handshake-state.js'
import {type HandshakeOptions, MESH_PROLOGUE, MESH_PROTOCOL, type SecureSession, type SessionOptions, type StaticKeyPair, secureSession} from '../../src/lib/noise/session.js'

export const newStaticKey = (): StaticKeyPair => DH_25519.generateKeyPair()

/** SPEC defaults with room for per-test overrides. */
export function sessionOptions(overrides: Partial<HandshakeOptions & SessionOptions> = {}): HandshakeOptions & SessionOptions {
  return {
    role: 'initiator', staticKey: newStaticKey(), timeoutMs: 5000,
    maxMessageBytes: 4194304, rekeyEveryMessages: 1000000, rekeyEverySecs: 600, heartbeatMs: 30000, deadAfterMs: 90000,
    makePayload: () => Buffer.from('{}'), verifyPeer: () => undefined,
    ...overrides,
  }
}

/** A listening server whose accepted sockets are handed out in order; close() ends everything. */
export async function listen(): Promise<{port: number; accepted: () => Promise<net.Socket>; close: () => void}> {
  const sockets: net.Socket[] = []
  const waiting: ((s: net.Socket) => void)[] = []
  const server = net.createServer((s) => {
    sockets.push(s)
    const w = waiting.shift()
    if (w) w(s)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  let handed = 0
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted: () => {
      const s = sockets[handed++]
      return s ? Promise.resolve(s) : new Promise((resolve) => waiting.push(resolve))
    },
    close: () => {
      for (const s of sockets) s.destroy()
      server.close()
    },
  }
}

/** Connects to 127.0.0.1:port and waits for the connection. */
export async function dial(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1')
  await once(socket, 'connect')
  return socket
}

/** Two sessions over real TCP; `via` lets a proxy sit in between. */
export async function sessionPair(
  init: Partial<HandshakeOptions & SessionOptions> = {},
  resp: Partial<HandshakeOptions & SessionOptions> = {},
  via?: (serverPort: number) => Promise<number>,
): Promise<{initiator: SecureSession; responder: SecureSession; close: () => void}> {
  const server = await listen()
  const port = via ? await via(server.port) : server.port
  const clientSocket = await dial(port)
  const [initiator, responder] = await Promise.all([
    secureSession(clientSocket, sessionOptions({role: 'initiator', ...init})),
    server.accepted().then((s) => secureSession(s, sessionOptions({role: 'responder', ...resp}))),
  ]).catch((err: unknown) => {
    server.close()
    throw err
  })
  return {initiator, responder, close: () => (initiator.close(), responder.close(), server.close())}
}

/** A TCP proxy to `target`; `arm(n)` flips bit 0 of the client→server byte `n` bytes after those already forwarded. */
export async function flippingProxy(target: number): Promise<{port: number; arm: (flipAt: number) => void; close: () => void}> {
  let flipAt: number | null = null
  let forwarded = 0
  const sockets: net.Socket[] = []
  const server = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1')
    sockets.push(client, upstream)
    client.on('data', (chunk: Buffer) => {
      if (flipAt !== null && flipAt < forwarded + chunk.length) {
        chunk = Buffer.from(chunk)
        const at = flipAt - forwarded
        chunk[at] = (chunk[at] as number) ^ 1
        flipAt = null
      }
      forwarded += chunk.length
      upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => client.write(chunk))
    const end = () => (client.destroy(), upstream.destroy())
    client.on('close', end).on('error', end)
    upstream.on('close', end).on('error', end)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as net.AddressInfo).port,
    arm: (n) => (flipAt = forwarded + n),
    close: () => (sockets.forEach((s) => s.destroy()), server.close()),
  }
}

/** A peer driven by hand: it completes the XXhfs handshake as initiator, then sends whatever frames a test writes. */
export async function rawInitiator(port: number): Promise<{
  socket: net.Socket
  send: CipherState
  recv: CipherState
  frames: Buffer[]
  writeFrame: (noiseMessage: Buffer) => void
  writeTransport: (plaintext: Buffer) => void
  closed: Promise<void>
}> {
  const socket = await dial(port)
  const frames: Buffer[] = []
  const waiting: ((f: Buffer) => void)[] = []
  const reader = new FrameReader((pieces, length) => {
    const f = joinPieces(pieces, length)
    const w = waiting.shift()
    if (w) w(f)
    else frames.push(Buffer.from(f))
  })
  socket.on('data', (c: Buffer) => reader.push(c))
  const closed = once(socket, 'close').then(() => undefined)
  socket.on('error', () => undefined)
  const nextFrame = () => (frames.length > 0 ? Promise.resolve(frames.shift() as Buffer) : new Promise<Buffer>((resolve) => waiting.push(resolve)))
  const writeFrame = (m: Buffer) => {
    const header = Buffer.alloc(2)
    header.writeUInt16BE(m.length)
    socket.write(Buffer.concat([header, m]))
  }
  const hs = new HandshakeState({protocol: MESH_PROTOCOL, initiator: true, prologue: MESH_PROLOGUE, s: newStaticKey()})
  writeFrame(hs.writeMessage())
  hs.readMessage(await nextFrame())
  writeFrame(hs.writeMessage(Buffer.from('{}')))
  const [send, recv] = hs.split()
  return {
    socket, send, recv, frames, writeFrame, closed,
    writeTransport: (plaintext) => writeFrame(send.encryptWithAd(Buffer.alloc(0), plaintext)),
  }
}

/** Plaintexts of the transport messages a raw peer has received so far. */
export function decryptAll(peer: {recv: CipherState; frames: Buffer[]}): Buffer[] {
  return peer.frames.splice(0).map((f) => peer.recv.decryptWithAd(Buffer.alloc(0), f))
}

/** Resolves with the close reason of a session. */
export function closeReason(session: SecureSession): Promise<Error | null> {
  return new Promise((resolve) => session.onClose(resolve))
}

/** A session (responder) facing a hand-driven initiator, both over real TCP. */
export async function rawPair(resp: Partial<HandshakeOptions & SessionOptions> = {}): Promise<{
  peer: Awaited<ReturnType<typeof rawInitiator>>
  responder: SecureSession
  close: () => void
}> {
  const server = await listen()
  const [peer, responder] = await Promise.all([
    rawInitiator(server.port),
    server.accepted().then((s) => secureSession(s, sessionOptions({role: 'responder', ...resp}))),
  ])
  return {peer, responder, close: () => (responder.close(), peer.socket.destroy(), server.close())}
}
