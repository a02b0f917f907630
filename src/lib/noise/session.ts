// Secure sessions between osmoda nodes (SPEC §2.5): the XXhfs handshake (X25519 + ephemeral
// ML-KEM-768, so a recorded session stays secret against a future quantum computer) over 2-byte
// length-prefixed frames, then the Transport. Identity policy (pins, invites, signatures) stays in
// the mesh daemon: it reaches in through makePayload/verifyPeer, bound to the handshake hash.
import type {Socket} from 'node:net'
import {HandshakeState, MAX_NOISE_MESSAGE} from './handshake-state.js'
import {FrameReader, joinPieces} from './frame-reader.js'
import {type Kem, ML_KEM_768} from './kem.js'
import {NoiseError} from './noise-error.js'
import {Transport} from './transport.js'

export {NoiseError} from './noise-error.js'
export type {NoiseErrorCode} from './noise-error.js'
export type {Kem} from './kem.js'

/** The protocol every osmoda mesh session speaks. */
export const MESH_PROTOCOL = 'Noise_XXhfs_25519+MLKEM768_ChaChaPoly_SHA256'
/** SPEC §2.5 prologue. */
export const MESH_PROLOGUE = Buffer.from('osmoda-mesh-v1')

/** A raw 32-byte X25519 key pair (the node's Noise static key). */
export interface StaticKeyPair {
  publicKey: Buffer
  privateKey: Buffer
}

/** Limits and timers of an established session (SPEC §2.5 defaults in parentheses). */
export interface SessionOptions {
  /** Reassembled application message cap (4194304); larger → session closed. */
  maxMessageBytes: number
  /** Transport messages sent under one key before a rekey, per direction (1000000). */
  rekeyEveryMessages: number
  /** Seconds one sending key lives, per direction (600). */
  rekeyEverySecs: number
  /** Send a ping when nothing was sent for this long (30 s). */
  heartbeatMs: number
  /** Close with DEAD_PEER when nothing was received for this long (90 s). */
  deadAfterMs: number
}

/** How to run the handshake. */
export interface HandshakeOptions {
  role: 'initiator' | 'responder'
  staticKey: StaticKeyPair
  /** Default `osmoda-mesh-v1`. */
  prologue?: Buffer
  /** Whole handshake; a stall rejects with HANDSHAKE_TIMEOUT and destroys the socket. */
  timeoutMs: number
  /** Default ML-KEM-768. */
  kem?: Kem
  /** Payload sent with this side's static key (responder: message 2, initiator: message 3); `h` = hash before it is encrypted. */
  makePayload(h: Buffer): Buffer | Promise<Buffer>
  /** Called with the remote static key, its payload and the `h` the sender passed to makePayload; throw to reject. */
  verifyPeer(remoteStatic: Buffer, payload: Buffer, h: Buffer): void | Promise<void>
}

/** An authenticated, encrypted message channel to one peer. */
export interface SecureSession {
  readonly remoteStatic: Buffer
  readonly handshakeHash: Buffer
  readonly stats: {messagesSent: number; messagesReceived: number; bytesSent: number; bytesReceived: number; rekeys: number}
  /** Sends one application message; resolves once written to the socket; rejects if closed. */
  send(message: Buffer): Promise<void>
  /** Receives application messages (never ping/pong/rekey); held until the first listener; a throwing listener closes the session (PROTOCOL). */
  onMessage(cb: (message: Buffer) => void): void
  /** Called exactly once: null after close(), a NoiseError otherwise. */
  onClose(cb: (err: NoiseError | null) => void): void
  close(): void
}

/** Runs the XXhfs handshake on `socket` and returns the established session; the socket is destroyed on failure. */
export async function secureSession(socket: Socket, opts: HandshakeOptions & SessionOptions): Promise<SecureSession> {
  checkOptions(opts)
  const reader = new FrameReader(() => undefined)
  const queue: Buffer[] = []
  let waiter: ((frame: Buffer) => void) | null = null
  let abort!: (err: NoiseError) => void
  const aborted = new Promise<never>((_, reject) => {
    abort = reject
  })
  aborted.catch(() => undefined)
  reader.onFrame = (pieces, length) => {
    const frame = joinPieces(pieces, length)
    if (waiter) {
      const w = waiter
      waiter = null
      return w(frame)
    }
    // Early frames (the initiator's first transport messages) wait here, reading paused.
    queue.push(frame)
    socket.pause()
  }
  const onData = (chunk: Buffer) => reader.push(chunk)
  const onEnd = () => abort(new NoiseError('HANDSHAKE_FAILED', 'peer closed the connection during the handshake'))
  const onError = (err: Error) => abort(new NoiseError('HANDSHAKE_FAILED', `socket error during the handshake: ${err.message}`, {cause: err}))
  socket.on('data', onData)
  socket.on('end', onEnd)
  socket.on('close', onEnd)
  socket.on('error', onError)
  socket.setNoDelay(true)
  const timer = setTimeout(() => abort(new NoiseError('HANDSHAKE_TIMEOUT', `handshake not finished within ${opts.timeoutMs} ms`)), opts.timeoutMs)
  const guard = <T>(step: T | Promise<T>): Promise<T> => Promise.race([Promise.resolve(step), aborted])
  const next = (): Promise<Buffer> => {
    const frame = queue.shift()
    if (frame) return Promise.resolve(frame)
    socket.resume()
    return guard(new Promise<Buffer>((resolve) => (waiter = resolve)))
  }
  let failed = false
  const send = (message: Buffer) => {
    if (failed) return
    const header = Buffer.allocUnsafe(2)
    header.writeUInt16BE(message.length)
    socket.write(Buffer.concat([header, message]))
  }
  try {
    const hs = await guard(runHandshake(opts, next, send, guard))
    const [c1, c2] = hs.split()
    const initiator = opts.role === 'initiator'
    socket.off('data', onData)
    socket.off('end', onEnd)
    socket.off('close', onEnd)
    socket.off('error', onError)
    return new Transport(socket, reader, initiator ? c1 : c2, initiator ? c2 : c1, opts, hs.remoteStatic as Buffer, hs.getHandshakeHash(), queue)
  } catch (err) {
    const failure = toNoiseError(err)
    failed = true
    abort(failure) // stops a step still running from touching the socket's frames
    reader.stop()
    socket.destroy()
    throw failure
  } finally {
    clearTimeout(timer)
  }
}

type Guard = <T>(step: T | Promise<T>) => Promise<T>

async function runHandshake(opts: HandshakeOptions, next: () => Promise<Buffer>, send: (m: Buffer) => void, guard: Guard): Promise<HandshakeState> {
  const kem = opts.kem ?? ML_KEM_768
  const hs = new HandshakeState({
    protocol: MESH_PROTOCOL,
    initiator: opts.role === 'initiator',
    prologue: opts.prologue ?? MESH_PROLOGUE,
    s: opts.staticKey,
    kem,
  })
  const writeWithPayload = async () => {
    hs.beginWrite()
    const payload = await guard(opts.makePayload(hs.getHandshakeHash()))
    if (payload.length > MAX_NOISE_MESSAGE) throw new NoiseError('FRAME_TOO_LARGE', `handshake payload of ${payload.length} bytes does not fit a Noise message`)
    send(hs.finishWrite(payload))
  }
  const readWithPayload = async () => {
    const frame = await next()
    const payload = read(hs, frame)
    const rejected = (err: unknown) => new NoiseError('PEER_REJECTED', `peer rejected: ${err instanceof Error ? err.message : String(err)}`, {cause: err})
    let verdict: Promise<void>
    try {
      verdict = Promise.resolve(opts.verifyPeer(hs.remoteStatic as Buffer, payload, hs.lastPayloadHash as Buffer))
    } catch (err) {
      throw rejected(err)
    }
    // Only verifyPeer's own failure is a rejection; a timeout or a dropped socket keeps its code.
    await guard(verdict.catch((err: unknown) => Promise.reject(rejected(err))))
  }
  if (opts.role === 'initiator') {
    send(hs.writeMessage())
    await readWithPayload()
    await writeWithPayload()
  } else {
    const first = await next()
    // SPEC §2.5: message 1 is `e, e1` and nothing else; refusing more bounds what an unauthenticated peer makes us parse.
    const expected = 32 + kem.publicKeyBytes
    if (first.length > expected) throw new NoiseError('FRAME_TOO_LARGE', `first handshake message of ${first.length} bytes, expected ${expected}`)
    read(hs, first)
    await writeWithPayload()
    await readWithPayload()
  }
  return hs
}

function read(hs: HandshakeState, frame: Buffer): Buffer {
  try {
    return hs.readMessage(frame)
  } catch (err) {
    throw new NoiseError('HANDSHAKE_FAILED', `bad handshake message: ${err instanceof Error ? err.message : String(err)}`, {cause: err})
  }
}

function toNoiseError(err: unknown): NoiseError {
  if (err instanceof NoiseError) return err
  return new NoiseError('HANDSHAKE_FAILED', err instanceof Error ? err.message : String(err), {cause: err})
}

function checkOptions(opts: HandshakeOptions & SessionOptions): void {
  if (opts.role !== 'initiator' && opts.role !== 'responder') throw new RangeError(`role must be initiator or responder, got ${String(opts.role)}`)
  if (opts.staticKey?.publicKey?.length !== 32 || opts.staticKey.privateKey?.length !== 32) throw new RangeError('staticKey must hold 32-byte X25519 keys')
  for (const key of ['timeoutMs', 'maxMessageBytes', 'rekeyEveryMessages', 'rekeyEverySecs', 'heartbeatMs', 'deadAfterMs'] as const) {
    const value = opts[key]
    if (typeof value !== 'number' || !(value > 0)) throw new RangeError(`${key} must be a positive number, got ${String(value)}`)
  }
}
