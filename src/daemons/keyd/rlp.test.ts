import {describe, expect, it} from 'vitest'
import {bigintToBytes, rlpDecode, rlpEncode, type RlpItem} from './rlp.js'

const ascii = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'))
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

// Examples from the Ethereum wiki's RLP page and the ethereum/tests rlptest.json cases.
const CASES: {name: string; item: RlpItem; want: string}[] = [
  {name: 'empty string', item: ascii(''), want: '80'},
  {name: 'dog', item: ascii('dog'), want: '83646f67'},
  {name: 'cat, dog list', item: [ascii('cat'), ascii('dog')], want: 'c88363617483646f67'},
  {name: 'empty list', item: [], want: 'c0'},
  {name: 'integer 0', item: bigintToBytes(0n), want: '80'},
  {name: 'byte 0x00', item: Uint8Array.of(0), want: '00'},
  {name: 'byte 0x0f', item: Uint8Array.of(15), want: '0f'},
  {name: 'integer 1024', item: bigintToBytes(1024n), want: '820400'},
  {name: 'byte 0x80', item: Uint8Array.of(0x80), want: '8180'},
  {name: 'set of three', item: [[], [[]], [[], [[]]]], want: 'c7c0c1c0c3c0c1c0'},
  {
    name: '56-byte string (long form)',
    item: ascii('Lorem ipsum dolor sit amet, consectetur adipisicing elit'),
    want: 'b8384c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e7365637465747572206164697069736963696e6720656c6974',
  },
  {name: 'integer 2^64', item: bigintToBytes(2n ** 64n), want: '89010000000000000000'},
]

describe('rlp', () => {
  it.each(CASES)('encodes $name', ({item, want}) => {
    // Given an item, When encoded, Then the bytes equal the reference; decoding gives the item back.
    const encoded = rlpEncode(item)
    expect(hex(encoded)).toBe(want)
    expect(rlpDecode(encoded)).toEqual(item)
  })

  it('encodes a 1024-byte string with a two-byte length', () => {
    expect(hex(rlpEncode(new Uint8Array(1024)).subarray(0, 3))).toBe('b90400')
  })

  it.each([
    ['truncated string', '83646f'],
    ['trailing byte', '83646f6700'],
    ['non-canonical single byte', '8100'],
    ['long form for a short string', 'b803646f67'],
    ['empty input', ''],
  ])('rejects %s', (_name, input) => {
    expect(() => rlpDecode(Uint8Array.from(Buffer.from(input, 'hex')))).toThrow()
  })

  it('refuses negative integers', () => {
    expect(() => bigintToBytes(-1n)).toThrow(RangeError)
  })
})
