// Noise HandshakeState (spec rev 34 §5.3) interpreting a pattern from patterns.ts, with the HFS
// tokens (noise-hfs: `e1` sends an ephemeral KEM key, `ekem1` answers with EncryptAndHash(ct) then
// MixKey(shared secret)). Writing is split in two steps because osmoda's payloads are computed
// from `h` as it stands just before the payload is encrypted (invite proofs, SPEC §2.5).
import {CipherState, SymmetricState} from './cipher-state.js'
import {type DhKeyPair, TAG_LEN} from './crypto-functions.js'
import type {Kem} from './kem.js'
import {type Protocol, type Token, parseProtocolName} from './patterns.js'

/** The largest Noise message (spec §3). */
export const MAX_NOISE_MESSAGE = 65535

/** How a HandshakeState starts. */
export interface HandshakeConfig {
  protocol: string | Protocol
  initiator: boolean
  prologue?: Buffer
  /** Local static key pair (patterns with `s`). */
  s?: DhKeyPair
  /** Remote static public key known in advance (pre-message patterns such as IK). */
  rs?: Buffer
  /** Pre-shared keys, consumed in order by `psk` tokens. */
  psks?: Buffer[]
  /** Replaces the KEM the protocol name selects (e.g. a native ML-KEM); its name must match. */
  kem?: Kem
  /** Fixed ephemeral material, for reproducing published test vectors only. */
  deterministic?: {e?: Buffer; kemSeed?: Uint8Array; encapsSeed?: Uint8Array}
}

/** One side of a Noise handshake. */
export class HandshakeState {
  readonly protocol: Protocol
  readonly initiator: boolean
  private readonly ss: SymmetricState
  private readonly kem: Kem | null
  private readonly s: DhKeyPair | null
  private e: DhKeyPair | null = null
  private rs: Buffer | null
  private re: Buffer | null = null
  private e1: {publicKey: Uint8Array; secretKey: Uint8Array} | null = null
  private re1: Buffer | null = null
  private readonly psks: Buffer[]
  private readonly pskMode: boolean
  private readonly fixed: NonNullable<HandshakeConfig['deterministic']>
  private index = 0
  private pending: Buffer[] | null = null
  private result: [CipherState, CipherState] | null = null
  private payloadHash: Buffer | null = null

  constructor(config: HandshakeConfig) {
    this.protocol = typeof config.protocol === 'string' ? parseProtocolName(config.protocol) : config.protocol
    this.initiator = config.initiator
    this.kem = config.kem ?? this.protocol.kem
    if (config.kem && config.kem.name !== this.protocol.kem?.name) throw new Error(`KEM ${config.kem.name} does not match ${this.protocol.name}`)
    // Kept by reference: the static key's imported KeyObject is cached per Buffer (crypto-functions.ts).
    this.s = config.s ?? null
    this.rs = config.rs ? Buffer.from(config.rs) : null
    this.psks = [...(config.psks ?? [])]
    this.fixed = config.deterministic ?? {}
    const {pattern} = this.protocol
    this.pskMode = pattern.messages.some((m) => m.includes('psk'))
    this.ss = new SymmetricState(this.protocol.cipher, this.protocol.hash, this.protocol.name)
    this.ss.mixHash(config.prologue ?? Buffer.alloc(0))
    this.mixPreMessage(pattern.preInitiator, this.initiator)
    this.mixPreMessage(pattern.preResponder, !this.initiator)
  }

  /** True when it is this side's turn to write. */
  get isMyTurn(): boolean {
    return !this.isComplete && (this.index % 2 === 0) === this.initiator
  }

  /** True after the last handshake message. */
  get isComplete(): boolean {
    return this.index >= this.protocol.pattern.messages.length
  }

  /** The remote static public key, once received (or given). */
  get remoteStatic(): Buffer | null {
    return this.rs ? Buffer.from(this.rs) : null
  }

  /** `h` just before the last read payload was decrypted: what the sender saw in its beginWrite(). */
  get lastPayloadHash(): Buffer | null {
    return this.payloadHash ? Buffer.from(this.payloadHash) : null
  }

  /** GetHandshakeHash(): the current `h` (the channel binding once complete). */
  getHandshakeHash(): Buffer {
    return this.ss.handshakeHash()
  }

  /** WriteMessage(payload) in one step. */
  writeMessage(payload: Buffer = Buffer.alloc(0)): Buffer {
    this.beginWrite()
    return this.finishWrite(payload)
  }

  /** Processes the tokens of the next outgoing message; `getHandshakeHash()` then gives the payload's `h`. */
  beginWrite(): void {
    if (!this.isMyTurn || this.pending) throw new Error('not this side\'s turn to write')
    const out: Buffer[] = []
    for (const token of this.protocol.pattern.messages[this.index] ?? []) this.writeToken(token, out)
    this.pending = out
  }

  /** Encrypts the payload and returns the whole message. */
  finishWrite(payload: Buffer): Buffer {
    if (!this.pending) throw new Error('finishWrite before beginWrite')
    const message = Buffer.concat([...this.pending, this.ss.encryptAndHash(payload)])
    this.pending = null
    if (message.length > MAX_NOISE_MESSAGE) throw new RangeError(`Noise message of ${message.length} bytes exceeds ${MAX_NOISE_MESSAGE}`)
    this.advance()
    return message
  }

  /** ReadMessage(message): returns the payload; throws on a short message or a failed decryption. */
  readMessage(message: Buffer): Buffer {
    if (this.isComplete || this.isMyTurn) throw new Error('not this side\'s turn to read')
    if (message.length > MAX_NOISE_MESSAGE) throw new RangeError('Noise message too long')
    const reader = {buf: message, at: 0}
    for (const token of this.protocol.pattern.messages[this.index] ?? []) this.readToken(token, reader)
    this.payloadHash = this.ss.handshakeHash()
    const payload = this.ss.decryptAndHash(message.subarray(reader.at))
    this.advance()
    return payload
  }

  /** Split() result once complete: [initiator→responder, responder→initiator]. */
  split(): [CipherState, CipherState] {
    if (!this.result) throw new Error('handshake not complete')
    return this.result
  }

  private advance(): void {
    this.index++
    if (this.isComplete) {
      this.result = this.ss.split()
      this.e?.privateKey.fill(0)
      this.e1?.secretKey.fill(0)
    }
  }

  private mixPreMessage(tokens: readonly Token[], local: boolean): void {
    for (const token of tokens) {
      if (token === 'e') throw new Error('pre-message ephemeral keys are not supported')
      if (token !== 's') throw new Error(`bad pre-message token ${token}`)
      const key = local ? this.s?.publicKey : this.rs
      if (!key) throw new Error(`${this.protocol.pattern.name} needs the ${local ? 'local' : 'remote'} static key in advance`)
      this.ss.mixHash(key)
    }
  }

  private writeToken(token: Token, out: Buffer[]): void {
    const {dh} = this.protocol
    switch (token) {
      case 'e': {
        this.e = dh.generateKeyPair(this.fixed.e)
        out.push(this.e.publicKey)
        this.ss.mixHash(this.e.publicKey)
        if (this.pskMode) this.ss.mixKey(this.e.publicKey)
        return
      }
      case 's':
        out.push(this.ss.encryptAndHash(need(this.s, 's').publicKey))
        return
      case 'e1': {
        this.e1 = needKem(this.kem).generateKeyPair(this.fixed.kemSeed)
        out.push(this.ss.encryptAndHash(Buffer.from(this.e1.publicKey)))
        return
      }
      case 'ekem1': {
        const {ciphertext, sharedSecret} = needKem(this.kem).encapsulate(need(this.re1, 're1'), this.fixed.encapsSeed)
        out.push(this.ss.encryptAndHash(Buffer.from(ciphertext)))
        this.ss.mixKey(Buffer.from(sharedSecret))
        return
      }
      default:
        this.mixCommon(token)
    }
  }

  private readToken(token: Token, reader: {buf: Buffer; at: number}): void {
    const {dh} = this.protocol
    const tag = () => (this.ss.hasKey() ? TAG_LEN : 0)
    switch (token) {
      case 'e': {
        this.re = Buffer.from(take(reader, dh.dhLen))
        this.ss.mixHash(this.re)
        if (this.pskMode) this.ss.mixKey(this.re)
        return
      }
      case 's':
        this.rs = this.ss.decryptAndHash(take(reader, dh.dhLen + tag()))
        return
      case 'e1': {
        const kem = needKem(this.kem)
        this.re1 = this.ss.decryptAndHash(take(reader, kem.publicKeyBytes + tag()))
        return
      }
      case 'ekem1': {
        const kem = needKem(this.kem)
        const ciphertext = this.ss.decryptAndHash(take(reader, kem.ciphertextBytes + tag()))
        this.ss.mixKey(Buffer.from(kem.decapsulate(ciphertext, need(this.e1, 'e1').secretKey)))
        return
      }
      default:
        this.mixCommon(token)
    }
  }

  /** Tokens that read and write alike: DHs (named initiator-key-first) and psk. */
  private mixCommon(token: Token): void {
    const {dh} = this.protocol
    const e = () => need(this.e, 'e')
    const s = () => need(this.s, 's')
    const re = () => need(this.re, 're')
    const rs = () => need(this.rs, 'rs')
    switch (token) {
      case 'ee':
        return this.ss.mixKey(dh.dh(e(), re()))
      case 'es':
        return this.ss.mixKey(this.initiator ? dh.dh(e(), rs()) : dh.dh(s(), re()))
      case 'se':
        return this.ss.mixKey(this.initiator ? dh.dh(s(), re()) : dh.dh(e(), rs()))
      case 'ss':
        return this.ss.mixKey(dh.dh(s(), rs()))
      case 'psk': {
        const psk = this.psks.shift()
        if (!psk || psk.length !== 32) throw new Error('a psk token needs a 32-byte pre-shared key')
        return this.ss.mixKeyAndHash(psk)
      }
      default:
        throw new Error(`unexpected token ${token}`)
    }
  }
}

function need<T>(value: T | null, name: string): T {
  if (value === null) throw new Error(`handshake state has no ${name} yet`)
  return value
}

function needKem(kem: Kem | null): Kem {
  if (!kem) throw new Error('this pattern needs a KEM')
  return kem
}

function take(reader: {buf: Buffer; at: number}, length: number): Buffer {
  if (reader.at + length > reader.buf.length) throw new RangeError('handshake message too short')
  const out = reader.buf.subarray(reader.at, reader.at + length)
  reader.at += length
  return out
}
