// The established half of a secure session (SPEC §2.5): fragmentation into ≤ 65518-byte pieces
// behind a flag byte, reassembly under a cap, in-band ping/pong/rekey control messages, keepalive
// and dead-peer detection. One serialized writer, because fragments of two messages must never
// interleave; any failure tears the socket down before a byte of unauthenticated data is delivered.
import type {Socket} from 'node:net'
import type {CipherState} from './cipher-state.js'
import {TAG_LEN} from './crypto-functions.js'
import type {FrameReader} from './frame-reader.js'
import {NoiseError} from './noise-error.js'
import {Reassembler} from './reassembler.js'
import type {SecureSession, SessionOptions} from './session.js'

/** Largest application bytes per transport message: 65535 − 16 (tag) − 1 (flag). */
export const MAX_FRAGMENT = 65518
const FLAG_MORE = Buffer.from([1])
const FLAG_LAST = Buffer.from([0])
const EMPTY = Buffer.alloc(0)
// Exact JCS bytes of the control messages; anything else is an application message.
const PING = Buffer.from('{"type":"ping"}')
const PONG = Buffer.from('{"type":"pong"}')
const REKEY = Buffer.from('{"type":"rekey"}')
// Bytes we let the socket buffer before waiting for 'drain': enough to keep the kernel busy
// during a 1 MiB message, bounded so a slow peer cannot make us hold a whole queue in memory.
const WRITE_HIGH_WATER = 1 << 20
const GRACEFUL_CLOSE_MS = 2000

type Kind = 'app' | 'control' | 'rekey'

/** SecureSession over a socket whose handshake is done; built by secureSession(). */
export class Transport implements SecureSession {
  readonly stats = {messagesSent: 0, messagesReceived: 0, bytesSent: 0, bytesReceived: 0, rekeys: 0}
  private closed = false
  private closeError: NoiseError | null = null
  private readonly messageListeners: ((message: Buffer) => void)[] = []
  private readonly closeListeners: ((err: NoiseError | null) => void)[] = []
  private undelivered: Buffer[] = []
  private readonly incoming = new Reassembler()
  private pongPending = false
  private tail: Promise<void> = Promise.resolve()
  private sentWithKey = 0
  private keySince = Date.now()
  private lastSendAt = Date.now()
  private lastRecvAt = Date.now()
  private timer: NodeJS.Timeout | null = null

  constructor(
    private readonly socket: Socket,
    private readonly reader: FrameReader,
    private readonly sendCs: CipherState,
    private readonly recvCs: CipherState,
    private readonly opts: SessionOptions,
    readonly remoteStatic: Buffer,
    readonly handshakeHash: Buffer,
    queued: Buffer[],
  ) {
    reader.onFrame = (pieces, length) => this.onFrame(pieces, length)
    socket.on('data', this.onData)
    socket.on('end', () => this.shutdown(new NoiseError('CLOSED', 'peer closed the connection')))
    socket.on('close', () => this.shutdown(new NoiseError('CLOSED', 'connection closed')))
    socket.on('error', (err) => this.shutdown(new NoiseError('CLOSED', `socket error: ${err.message}`, {cause: err})))
    for (const frame of queued) this.onFrame([frame], frame.length)
    if (!this.closed) {
      this.schedule()
      if (this.undelivered.length === 0) socket.resume()
    }
  }

  send(message: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError())
    if (message.length > this.opts.maxMessageBytes) {
      return Promise.reject(new NoiseError('MESSAGE_TOO_LARGE', `message of ${message.length} bytes exceeds maxMessageBytes ${this.opts.maxMessageBytes}`))
    }
    return this.enqueue(message, 'app')
  }

  onMessage(cb: (message: Buffer) => void): void {
    this.messageListeners.push(cb)
    const held = this.undelivered
    this.undelivered = []
    for (const message of held) if (!this.deliver(cb, message)) return
    if (!this.closed && held.length > 0) this.socket.resume()
  }

  onClose(cb: (err: NoiseError | null) => void): void {
    if (this.closed) process.nextTick(cb, this.closeError)
    else this.closeListeners.push(cb)
  }

  close(): void {
    this.shutdown(null)
  }

  private enqueue(message: Buffer, kind: Kind): Promise<void> {
    const run = this.tail.then(() => this.write(message, kind))
    this.tail = run.catch(() => undefined)
    return run
  }

  private async write(message: Buffer, kind: Kind): Promise<void> {
    if (kind !== 'rekey' && this.rekeyDue()) {
      await this.write(REKEY, 'rekey')
      this.sendCs.rekey()
      this.sentWithKey = 0
      this.keySince = Date.now()
      this.stats.rekeys++
    }
    let offset = 0
    do {
      if (this.closed) throw this.closedError()
      const end = Math.min(offset + MAX_FRAGMENT, message.length)
      const chunk = message.subarray(offset, end)
      const pieces = this.sendCs.encryptParts(EMPTY, [end === message.length ? FLAG_LAST : FLAG_MORE, chunk])
      const header = Buffer.allocUnsafe(2)
      header.writeUInt16BE(1 + chunk.length + TAG_LEN)
      // Corked so header, ciphertext and tag leave in one writev, not three syscalls.
      this.socket.cork()
      this.socket.write(header)
      for (const piece of pieces) this.socket.write(piece)
      this.socket.uncork()
      this.sentWithKey++
      this.lastSendAt = Date.now()
      if (this.socket.writableLength >= WRITE_HIGH_WATER) await this.drained()
      offset = end
    } while (offset < message.length)
    if (kind === 'app') {
      this.stats.messagesSent++
      this.stats.bytesSent += message.length
    }
  }

  private rekeyDue(): boolean {
    if (this.sentWithKey === 0) return false
    return this.sentWithKey >= this.opts.rekeyEveryMessages || Date.now() - this.keySince >= this.opts.rekeyEverySecs * 1000
  }

  private drained(): Promise<void> {
    if (this.closed || this.socket.destroyed) return Promise.reject(this.closedError())
    return new Promise((resolve, reject) => {
      const done = () => {
        this.socket.off('drain', done)
        this.socket.off('close', done)
        if (this.closed) reject(this.closedError())
        else resolve()
      }
      this.socket.on('drain', done)
      this.socket.on('close', done)
    })
  }

  private readonly onData = (chunk: Buffer): void => {
    this.lastRecvAt = Date.now()
    this.reader.push(chunk)
  }

  private onFrame(pieces: Buffer[], length: number): void {
    if (this.closed) return
    if (length < 1 + TAG_LEN) return this.fail('PROTOCOL', `transport message of ${length} bytes is shorter than flag byte + tag`)
    let plaintext: Buffer[]
    try {
      plaintext = this.recvCs.decryptPieces(EMPTY, pieces, length)
    } catch (err) {
      return this.fail('DECRYPT_FAILED', 'transport message failed authentication', err)
    }
    const first = plaintext.findIndex((p) => p.length > 0)
    const flag = (plaintext[first] as Buffer)[0]
    if (flag !== 0 && flag !== 1) return this.fail('PROTOCOL', `unknown fragment flag ${flag}`)
    plaintext[first] = (plaintext[first] as Buffer).subarray(1)
    if (this.incoming.size + length - 1 - TAG_LEN > this.opts.maxMessageBytes) {
      return this.fail('MESSAGE_TOO_LARGE', `incoming message exceeds maxMessageBytes ${this.opts.maxMessageBytes}`)
    }
    for (let i = first; i < plaintext.length; i++) this.incoming.add(plaintext[i] as Buffer)
    if (flag === 1) return
    this.onMessageReceived(this.incoming.take())
  }

  private onMessageReceived(message: Buffer): void {
    if (message.equals(PING)) {
      // One pong in flight at most: a peer flooding pings while not reading cannot grow our queue.
      if (this.pongPending) return
      this.pongPending = true
      this.enqueue(PONG, 'control').catch(() => undefined).finally(() => (this.pongPending = false))
    } else if (message.equals(PONG)) {
      // Liveness only: lastRecvAt is already updated.
    } else if (message.equals(REKEY)) {
      this.recvCs.rekey()
      this.stats.rekeys++
    } else {
      this.stats.messagesReceived++
      this.stats.bytesReceived += message.length
      if (this.messageListeners.length > 0) {
        for (const cb of this.messageListeners) if (!this.deliver(cb, message)) return
      } else {
        // Held (and reading paused) until the owner registers onMessage right after the handshake.
        this.undelivered.push(message)
        this.socket.pause()
      }
    }
  }

  /**
   * Calls a listener; one that throws closes the session (PROTOCOL, the error as cause) rather than
   * escaping into the socket's 'data' handler, where a peer's crafted message would crash the daemon.
   */
  private deliver(cb: (message: Buffer) => void, message: Buffer): boolean {
    try {
      cb(message)
      return true
    } catch (err) {
      this.fail('PROTOCOL', `message listener failed: ${err instanceof Error ? err.message : String(err)}`, err)
      return false
    }
  }

  /** One timer for both keepalive and dead-peer, set to whichever deadline comes first. */
  private schedule(): void {
    if (this.timer) clearTimeout(this.timer)
    const next = Math.min(this.lastSendAt + this.opts.heartbeatMs, this.lastRecvAt + this.opts.deadAfterMs)
    this.timer = setTimeout(() => this.tick(), Math.max(1, next - Date.now()))
    this.timer.unref()
  }

  private tick(): void {
    if (this.closed) return
    const now = Date.now()
    if (now - this.lastRecvAt >= this.opts.deadAfterMs) return this.fail('DEAD_PEER', `nothing received for ${now - this.lastRecvAt} ms`)
    if (now - this.lastSendAt >= this.opts.heartbeatMs) {
      this.lastSendAt = now // a ping queued behind a long message must not be queued again
      this.enqueue(PING, 'control').catch(() => undefined)
    }
    this.schedule()
  }

  private fail(code: NoiseError['code'], message: string, cause?: unknown): void {
    this.shutdown(new NoiseError(code, message, cause === undefined ? undefined : {cause}))
  }

  private closedError(): NoiseError {
    return new NoiseError('CLOSED', this.closeError ? `session closed: ${this.closeError.message}` : 'session closed')
  }

  private shutdown(err: NoiseError | null): void {
    if (this.closed) return
    this.closed = true
    this.closeError = err
    if (this.timer) clearTimeout(this.timer)
    this.reader.stop()
    this.incoming.reset()
    this.undelivered = []
    if (err) {
      this.socket.destroy()
    } else {
      // Queued bytes still go out; a peer that never answers our FIN is cut off.
      this.socket.end()
      setTimeout(() => this.socket.destroy(), GRACEFUL_CLOSE_MS).unref()
    }
    const listeners = this.closeListeners.splice(0)
    for (const cb of listeners) cb(err)
  }
}
