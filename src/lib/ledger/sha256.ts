import * as crypto from 'node:crypto'

interface OneShotHash {
  (algorithm: string, data: crypto.BinaryLike, outputEncoding: 'buffer'): Buffer
  (algorithm: string, data: crypto.BinaryLike, outputEncoding: 'hex'): string
}

// crypto.hash (Node ≥ 20.12) skips the Hash object and is markedly faster for short inputs, which
// is what verifying hundreds of thousands of rows per second needs; older Node 20 falls back.
const oneShot = (crypto as unknown as {hash?: OneShotHash}).hash

/** SHA-256 of `data` as a 32-byte Buffer. */
export function sha256(data: crypto.BinaryLike): Buffer {
  return oneShot ? oneShot('sha256', data, 'buffer') : crypto.createHash('sha256').update(data).digest()
}

/** SHA-256 of `data` as 64 lowercase hex characters. */
export function sha256Hex(data: crypto.BinaryLike): string {
  return oneShot ? oneShot('sha256', data, 'hex') : crypto.createHash('sha256').update(data).digest('hex')
}
