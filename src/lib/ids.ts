import {randomBytes} from 'node:crypto'

/** Crockford base32 alphabet (no I, L, O, U), as ULID uses. */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/** Largest timestamp a ULID can hold (48 bits of milliseconds). */
const MAX_TIME = 2 ** 48 - 1

/** A ULID: 26 Crockford base32 characters, 10 of time (ms) then 16 of randomness. */
export const ULID_RE = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/

/** A function that returns a new ULID each call. */
export type UlidGenerator = () => string

/**
 * Creates a ULID generator (https://github.com/ulid/spec). Within one millisecond (or when the clock
 * steps back) the random part is incremented instead of redrawn, so ids from one generator sort in
 * creation order. The state lives in the closure, never in the module.
 */
export function createUlidGenerator(options: {clock?: () => number; random?: (bytes: number) => Buffer} = {}): UlidGenerator {
  const clock = options.clock ?? Date.now
  const random = options.random ?? randomBytes
  let lastTime = -1
  // 16 base32 digits (80 bits), most significant first.
  let lastRandom: number[] = []

  return () => {
    const now = clock()
    if (!Number.isSafeInteger(now) || now < 0 || now > MAX_TIME) throw new RangeError(`ULID time out of range: ${now}`)
    if (now > lastTime) {
      lastTime = now
      const bytes = random(10)
      lastRandom = bytesToDigits(bytes)
    } else {
      lastRandom = increment(lastRandom)
    }
    return encodeTime(lastTime) + lastRandom.map((d) => CROCKFORD[d]).join('')
  }
}

/** The millisecond timestamp encoded in a ULID. */
export function ulidTime(ulid: string): number {
  if (!ULID_RE.test(ulid)) throw new RangeError(`not a ULID: ${ulid}`)
  let time = 0
  for (const char of ulid.slice(0, 10)) time = time * 32 + CROCKFORD.indexOf(char)
  return time
}

function encodeTime(time: number): string {
  let out = ''
  let rest = time
  for (let i = 0; i < 10; i++) {
    out = (CROCKFORD[rest % 32] as string) + out
    rest = Math.floor(rest / 32)
  }
  return out
}

function bytesToDigits(bytes: Buffer): number[] {
  // 80 bits → 16 five-bit digits.
  let value = 0n
  for (const byte of bytes) value = (value << 8n) | BigInt(byte)
  const digits: number[] = []
  for (let i = 0; i < 16; i++) {
    digits.unshift(Number(value & 31n))
    value >>= 5n
  }
  return digits
}

function increment(digits: number[]): number[] {
  const next = [...digits]
  for (let i = next.length - 1; i >= 0; i--) {
    if ((next[i] as number) < 31) {
      next[i] = (next[i] as number) + 1
      return next
    }
    next[i] = 0
  }
  // 2^80 ids in one millisecond: the spec says fail rather than wrap.
  throw new RangeError('ULID random part overflowed within one millisecond')
}
