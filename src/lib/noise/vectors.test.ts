import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import type {CipherState} from './cipher-state.js'
import {DH_25519} from './crypto-functions.js'
import {HandshakeState} from './handshake-state.js'
import {parseProtocolName} from './patterns.js'

// Public vectors shared beside the repository (see shared/vectors/README.md).
const VECTORS = new URL('../../../../shared/vectors/noise/', import.meta.url)
const hex = (s: string) => Buffer.from(s, 'hex')
const load = (file: string) => JSON.parse(readFileSync(new URL(file, VECTORS), 'utf8'))

interface HfsVector {
  vector_index: string
  static_i_private: string; static_i_public: string; static_r_private: string; static_r_public: string
  ephemeral_dh_i_private: string; ephemeral_dh_i_public: string; ephemeral_dh_r_private: string; ephemeral_dh_r_public: string
  ephemeral_kem_i_public: string; ephemeral_kem_i_secret: string; encap_seed_hex: string; prologue: string
  msg_a: string; msg_b: string; msg_c: string; handshake_hash: string; cs1_k: string; cs2_k: string
}

const hfs = load('xxhfs-25519-mlkem768-chachapoly-sha256.json') as {protocol: string; vectors: HfsVector[]}

describe('Noise_XXhfs_25519+MLKEM768_ChaChaPoly_SHA256 (pq-noise-artifacts vectors)', () => {
  it.each(hfs.vectors.map((v) => [v.vector_index, v] as const))('vector %s: every message byte, h and both split keys', (_i, v) => {
    // Given both sides seeded as the vector describes (KEM seed 64 × base+5, encaps seed m)
    const base = Number(v.vector_index) * 0x10
    const initiator = new HandshakeState({
      protocol: hfs.protocol, initiator: true, prologue: hex(v.prologue),
      s: DH_25519.generateKeyPair(hex(v.static_i_private)),
      deterministic: {e: hex(v.ephemeral_dh_i_private), kemSeed: Buffer.alloc(64, base + 5)},
    })
    const responder = new HandshakeState({
      protocol: hfs.protocol, initiator: false, prologue: hex(v.prologue),
      s: DH_25519.generateKeyPair(hex(v.static_r_private)),
      deterministic: {e: hex(v.ephemeral_dh_r_private), encapsSeed: hex(v.encap_seed_hex)},
    })
    expect(DH_25519.generateKeyPair(hex(v.static_i_private)).publicKey.toString('hex')).toBe(v.static_i_public)

    // When the three messages are exchanged with empty payloads
    const a = initiator.writeMessage()
    expect(a.toString('hex')).toBe(v.msg_a)
    expect(a.subarray(32).toString('hex')).toBe(v.ephemeral_kem_i_public)
    expect(responder.readMessage(a)).toHaveLength(0)
    const b = responder.writeMessage()
    expect(b.toString('hex')).toBe(v.msg_b)
    expect(initiator.readMessage(b)).toHaveLength(0)
    const c = initiator.writeMessage()
    expect(c.toString('hex')).toBe(v.msg_c)
    expect(responder.readMessage(c)).toHaveLength(0)

    // Then both sides agree with the vector on h, the keys and each other's static key
    for (const side of [initiator, responder]) {
      expect(side.isComplete).toBe(true)
      expect(side.getHandshakeHash().toString('hex')).toBe(v.handshake_hash)
      const [c1, c2] = side.split()
      expect(c1.key?.toString('hex')).toBe(v.cs1_k)
      expect(c2.key?.toString('hex')).toBe(v.cs2_k)
    }
    expect(initiator.remoteStatic?.toString('hex')).toBe(v.static_r_public)
    expect(responder.remoteStatic?.toString('hex')).toBe(v.static_i_public)
  })

  it('a flipped bit in the KEM ciphertext of message B fails the handshake', () => {
    // Given vector 1's first message
    const v = hfs.vectors[0] as HfsVector
    const initiator = new HandshakeState({protocol: hfs.protocol, initiator: true, s: DH_25519.generateKeyPair(hex(v.static_i_private))})
    const responder = new HandshakeState({protocol: hfs.protocol, initiator: false, s: DH_25519.generateKeyPair(hex(v.static_r_private))})
    responder.readMessage(initiator.writeMessage())
    // When one bit of the encrypted ciphertext in message B flips
    const b = responder.writeMessage()
    b[40] = (b[40] as number) ^ 1
    // Then the initiator rejects it
    expect(() => initiator.readMessage(b)).toThrow()
  })
})

interface CacophonyVector {
  protocol_name: string
  init_prologue: string; resp_prologue: string
  init_static?: string; resp_static?: string; init_ephemeral: string; resp_ephemeral: string
  init_remote_static?: string; init_psks?: string[]; resp_psks?: string[]
  handshake_hash: string
  messages: {payload: string; ciphertext: string}[]
}

const cacophony = (load('cacophony-selected.json') as {vectors: CacophonyVector[]}).vectors

describe('cacophony vectors (NN, IK, XX with ChaChaPoly/AESGCM and SHA256/BLAKE2s, XXpsk3)', () => {
  it.each(cacophony.map((v) => [v.protocol_name, v] as const))('%s: handshake and transport messages, h', (_name, v) => {
    // Given both sides built from the vector's keys
    const initiator = new HandshakeState({
      protocol: v.protocol_name, initiator: true, prologue: hex(v.init_prologue),
      ...(v.init_static ? {s: DH_25519.generateKeyPair(hex(v.init_static))} : {}),
      ...(v.init_remote_static ? {rs: hex(v.init_remote_static)} : {}),
      psks: (v.init_psks ?? []).map(hex),
      deterministic: {e: hex(v.init_ephemeral)},
    })
    const responder = new HandshakeState({
      protocol: v.protocol_name, initiator: false, prologue: hex(v.resp_prologue),
      ...(v.resp_static ? {s: DH_25519.generateKeyPair(hex(v.resp_static))} : {}),
      psks: (v.resp_psks ?? []).map(hex),
      deterministic: {e: hex(v.resp_ephemeral)},
    })
    let transport: {i: [CipherState, CipherState]; r: [CipherState, CipherState]} | null = null
    v.messages.forEach((m, i) => {
      const [sender, receiver] = i % 2 === 0 ? [initiator, responder] : [responder, initiator]
      // When each message is written by its sender and read by the other side
      if (!transport) {
        const wire = sender.writeMessage(hex(m.payload))
        expect(wire.toString('hex'), `handshake message ${i}`).toBe(m.ciphertext)
        expect(receiver.readMessage(wire).toString('hex')).toBe(m.payload)
        if (initiator.isComplete && responder.isComplete) {
          // Then h matches once the handshake is over
          expect(initiator.getHandshakeHash().toString('hex')).toBe(v.handshake_hash)
          expect(responder.getHandshakeHash().toString('hex')).toBe(v.handshake_hash)
          transport = {i: initiator.split(), r: responder.split()}
        }
        return
      }
      // And transport messages use cs1 for initiator→responder, cs2 for responder→initiator
      const [send, recv] = i % 2 === 0 ? [transport.i[0], transport.r[0]] : [transport.r[1], transport.i[1]]
      const wire = send.encryptWithAd(Buffer.alloc(0), hex(m.payload))
      expect(wire.toString('hex'), `transport message ${i}`).toBe(m.ciphertext)
      expect(recv.decryptWithAd(Buffer.alloc(0), wire).toString('hex')).toBe(m.payload)
    })
    expect(transport).not.toBeNull()
  })
})

describe('parseProtocolName', () => {
  it.each(['Noise_XX_25519_ChaChaPoly_SHA256', 'Noise_XX_25519_ChaChaPoly_BLAKE2s', 'Noise_XXhfs_25519+MLKEM768_ChaChaPoly_SHA256'])('accepts %s', (name) => {
    expect(parseProtocolName(name).name).toBe(name)
  })

  it.each([
    ['Noise_XX_448_ChaChaPoly_SHA256', /DH/],
    ['Noise_XXhfs_25519_ChaChaPoly_SHA256', /needs KEM/],
    ['Noise_XX_25519+MLKEM768_ChaChaPoly_SHA256', /takes no KEM/],
    ['Noise_XXhfs_25519+MLKEM1024_ChaChaPoly_SHA256', /KEM/],
    ['Noise_ZZ_25519_ChaChaPoly_SHA256', /pattern/],
    ['Noise_XXpsk9_25519_ChaChaPoly_SHA256', /past the last message/],
    ['Noise_XX_25519_ChaChaPoly_SHA512', /hash/],
    ['Noise_XX_25519_ChaChaPoly', /not a Noise protocol name/],
  ])('refuses %s', (name, message) => {
    expect(() => parseProtocolName(name)).toThrow(message)
  })

  it('places psk tokens per modifier: psk0 first in message 1, pskN last in message N', () => {
    expect(parseProtocolName('Noise_XXpsk0+psk3_25519_ChaChaPoly_SHA256').pattern.messages).toEqual([['psk', 'e'], ['e', 'ee', 's', 'es'], ['s', 'se', 'psk']])
  })
})
