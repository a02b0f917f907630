import {describe, expect, it} from 'vitest'
import {randomBytes} from 'node:crypto'
import {base58Decode, base58Encode} from './base58.js'

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'))

// Known answers from the Bitcoin base58 test data (base58_encode_decode.json).
const VECTORS: [string, string][] = [
  ['', ''],
  ['61', '2g'],
  ['626262', 'a3gV'],
  ['636363', 'aPEr'],
  ['73696d706c792061206c6f6e6720737472696e67', '2cFupjhnEsSn59qHXstmK2ffpLv2'],
  ['00eb15231dfceb60925886b67d065299925915aeb172c06647', '1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L'],
  ['516b6fcd0f', 'ABnLTmg'],
  ['bf4f89001e670274dd', '3SEo3LWLoPntC'],
  ['572e4794', '3EFU7m'],
  ['ecac89cad93923c02321', 'EJDM8drfXA6uyA'],
  ['10c8511e', 'Rt5zm'],
  ['00000000000000000000', '1111111111'],
  ['0000000000000000000000000000000000000000000000000000000000000000', '11111111111111111111111111111111'],
]

describe('base58', () => {
  it.each(VECTORS)('encodes and decodes %s', (h, b58) => {
    // Given known bytes, When encoded and decoded, Then both directions match the reference.
    expect(base58Encode(hex(h))).toBe(b58)
    expect(Buffer.from(base58Decode(b58) as Uint8Array).toString('hex')).toBe(h)
  })

  it('round-trips random 32- and 64-byte values, leading zeros included', () => {
    for (let i = 0; i < 200; i++) {
      const bytes = randomBytes(i % 2 ? 32 : 64)
      if (i % 5 === 0) bytes.fill(0, 0, i % 7)
      expect(Buffer.from(base58Decode(base58Encode(bytes)) as Uint8Array).equals(bytes)).toBe(true)
    }
  })

  it.each(['0', 'O', 'I', 'l', 'abc+', ' 2g'])('rejects %j (outside the alphabet)', (text) => {
    expect(base58Decode(text)).toBeNull()
  })
})
