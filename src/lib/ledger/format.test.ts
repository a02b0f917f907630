import {createHash} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {OsmodaError} from '../errors.js'
import {createEventHasher, EVENT_TYPE_RE, formatTs, GENESIS_PREV_HASH, hashEvent} from './format.js'

const u32be = (n: number) => Buffer.from([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255])
const sha256Hex = (b: Buffer) => createHash('sha256').update(b).digest('hex')

describe('hashEvent', () => {
  const first = {
    prev_hash: GENESIS_PREV_HASH,
    seq: 1,
    ts: '2026-11-25T21:30:00.123Z',
    type: 'tool.called',
    actor: 'agentd',
    payload: '{"ok":true,"tool":"shell_exec"}',
  }

  it('hashes the byte layout of the spec, checked against an independently computed digest', () => {
    // Given the preimage written out byte by byte: tag, 0x00, 32 zero bytes, then length-prefixed fields
    const preimage = Buffer.concat([
      Buffer.from('osmoda.ledger.v1', 'ascii'),
      Buffer.from([0x00]),
      Buffer.alloc(32),
      Buffer.from([0, 0, 0, 1]), Buffer.from('1'),
      Buffer.from([0, 0, 0, 24]), Buffer.from('2026-11-25T21:30:00.123Z'),
      Buffer.from([0, 0, 0, 11]), Buffer.from('tool.called'),
      Buffer.from([0, 0, 0, 6]), Buffer.from('agentd'),
      Buffer.from([0, 0, 0, 31]), Buffer.from('{"ok":true,"tool":"shell_exec"}'),
    ])
    expect(preimage).toHaveLength(142)
    // When the event is hashed
    const hash = hashEvent(first)
    // Then it is SHA-256 of exactly those bytes, and the digest that python3 hashlib and sha256sum gave for them
    expect(hash).toBe(sha256Hex(preimage))
    expect(hash).toBe('cba676cd6b3e660a3d83a682519c0aa3da76301d1fca50d0f4b74870b4f168a6')
  })

  it('links to the previous hash as raw bytes and measures fields in UTF-8 bytes, not characters', () => {
    // Given a second event with non-ASCII actor and payload ("zoë" is 4 bytes, "☕" 3 bytes)
    const second = {
      prev_hash: 'cba676cd6b3e660a3d83a682519c0aa3da76301d1fca50d0f4b74870b4f168a6',
      seq: 2,
      ts: '2026-11-25T21:30:00.124Z',
      type: 'approval.approved',
      actor: 'operator:zoë',
      payload: '{"note":"café ☕"}',
    }
    const preimage = Buffer.concat([
      Buffer.from('osmoda.ledger.v1\0', 'ascii'),
      Buffer.from(second.prev_hash, 'hex'),
      u32be(1), Buffer.from('2'),
      u32be(24), Buffer.from(second.ts),
      u32be(17), Buffer.from(second.type),
      u32be(13), Buffer.from('operator:zo\u00eb', 'utf8'),
      u32be(20), Buffer.from('{"note":"caf\u00e9 \u2615"}', 'utf8'),
    ])
    // When hashed Then it matches the preimage and the independently computed digest
    expect(hashEvent(second)).toBe(sha256Hex(preimage))
    expect(hashEvent(second)).toBe('0cad729ca9ec62d50aa249ec50f556fd435869ad05be79ef96aa4b6debb1e721')
  })

  it('changes when any covered field changes', () => {
    const base = hashEvent(first)
    for (const change of [{seq: 2}, {ts: '2026-11-25T21:30:00.124Z'}, {type: 'tool.failed'}, {actor: 'agentD'}, {payload: '{"ok":false}'}, {prev_hash: '1'.repeat(64)}]) {
      expect(hashEvent({...first, ...change})).not.toBe(base)
    }
  })

  it('keeps field boundaries unambiguous: moving a character between fields changes the hash', () => {
    // Without length prefixes "tool.called"+"agentd" and "tool.calleda"+"gentd" would hash alike
    expect(hashEvent({...first, type: 'tool.calleda', actor: 'gentd'})).not.toBe(hashEvent(first))
  })

  it('gives the same answer through a reused hasher, also after its scratch buffer grows', () => {
    const hasher = createEventHasher()
    const big = {...first, payload: JSON.stringify({blob: 'é'.repeat(5000)})}
    expect(hasher(first)).toBe(hashEvent(first))
    expect(hasher(big)).toBe(hashEvent(big))
    expect(hasher(first)).toBe(hashEvent(first))
  })

  it.each([
    ['uppercase prev_hash', {prev_hash: 'A'.repeat(64)}],
    ['short prev_hash', {prev_hash: '0'.repeat(62)}],
    ['seq 0', {seq: 0}],
    ['fractional seq', {seq: 1.5}],
  ])('refuses %s', (_name, change) => {
    expect(() => hashEvent({...first, ...change})).toThrow(OsmodaError)
  })
})

describe('formats', () => {
  it('formats ts as UTC with milliseconds and Z', () => {
    expect(formatTs(new Date(Date.UTC(2026, 10, 25, 21, 30, 0, 123)))).toBe('2026-11-25T21:30:00.123Z')
    expect(formatTs(0)).toBe('1970-01-01T00:00:00.000Z')
  })

  it('refuses instants the fixed-width format cannot hold', () => {
    expect(() => formatTs(new Date(NaN))).toThrow(OsmodaError)
    expect(() => formatTs(Date.UTC(10000, 0, 1))).toThrow(OsmodaError)
  })

  it.each([
    ['tool.called', true],
    ['switch.rolled_back', true],
    ['mesh.peer_connected', true],
    ['a1.b2', true],
    ['Tool.called', false],
    ['tool', false],
    ['tool.called.twice', false],
    ['1tool.called', false],
    ['tool._x', false],
    ['tool-x.called', false],
  ])('type %s matches the event-type pattern: %s', (type, want) => {
    expect(EVENT_TYPE_RE.test(type)).toBe(want)
  })
})
