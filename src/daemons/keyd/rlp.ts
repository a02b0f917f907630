// Recursive Length Prefix (Ethereum yellow paper, appendix B): the encoding of signed transactions.

/** An RLP item: a byte string or a list of items. */
export type RlpItem = Uint8Array | RlpItem[]

function lengthPrefix(length: number, shortBase: number): Uint8Array {
  if (length < 56) return Uint8Array.of(shortBase + length)
  const lenBytes = bigintToBytes(BigInt(length))
  return Uint8Array.from([shortBase + 55 + lenBytes.length, ...lenBytes])
}

/** RLP-encodes an item. */
export function rlpEncode(item: RlpItem): Uint8Array {
  if (item instanceof Uint8Array) {
    if (item.length === 1 && (item[0] as number) < 0x80) return item
    return concatBytes([lengthPrefix(item.length, 0x80), item])
  }
  const payload = concatBytes(item.map(rlpEncode))
  return concatBytes([lengthPrefix(payload.length, 0xc0), payload])
}

/** The minimal big-endian bytes of a non-negative integer (0 → empty, as RLP wants scalars). */
export function bigintToBytes(value: bigint): Uint8Array {
  if (value < 0n) throw new RangeError('negative integer')
  if (value === 0n) return new Uint8Array(0)
  let hex = value.toString(16)
  if (hex.length % 2) hex = `0${hex}`
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}

/** Concatenates byte arrays. */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}

/**
 * Decodes exactly one RLP item spanning the whole input; throws on trailing bytes, truncation or
 * non-canonical lengths (used by tests and to unwrap the vectors' string wrapping).
 */
export function rlpDecode(bytes: Uint8Array): RlpItem {
  const [item, end] = decodeAt(bytes, 0)
  if (end !== bytes.length) throw new Error('trailing bytes after RLP item')
  return item
}

function decodeAt(bytes: Uint8Array, pos: number): [RlpItem, number] {
  const first = bytes[pos]
  if (first === undefined) throw new Error('truncated RLP')
  if (first < 0x80) return [bytes.subarray(pos, pos + 1), pos + 1]
  const isList = first >= 0xc0
  const base = isList ? 0xc0 : 0x80
  let length: number
  let start: number
  if (first - base < 56) {
    length = first - base
    start = pos + 1
  } else {
    const lenOfLen = first - base - 55
    const lenBytes = bytes.subarray(pos + 1, pos + 1 + lenOfLen)
    if (lenBytes.length !== lenOfLen || lenBytes[0] === 0) throw new Error('bad RLP length')
    length = Number.parseInt(Buffer.from(lenBytes).toString('hex'), 16)
    if (length < 56) throw new Error('non-canonical RLP length')
    start = pos + 1 + lenOfLen
  }
  const end = start + length
  if (end > bytes.length) throw new Error('truncated RLP')
  if (!isList) {
    if (length === 1 && (bytes[start] as number) < 0x80) throw new Error('non-canonical single byte')
    return [bytes.subarray(start, end), end]
  }
  const items: RlpItem[] = []
  let cursor = start
  while (cursor < end) {
    const [child, next] = decodeAt(bytes, cursor)
    if (next > end) throw new Error('RLP list item overruns its list')
    items.push(child)
    cursor = next
  }
  return [items, end]
}
