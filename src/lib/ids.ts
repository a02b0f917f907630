import {randomBytes} from 'node:crypto'

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const ULID_RE = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/

/** A generator of ULIDs: 26-char Crockford base32, time-sortable, monotonic within one millisecond. */
export type UlidGenerator = (now?: number) => string

/**
 * Creates a ULID generator. Within one millisecond (or if the clock steps back) the random part of
 * the previous id is incremented, so ids from one generator always sort in creation order.
 */
export function createUlidGenerator(clock: () => number = Date.now): UlidGenerator {
  let lastTime = -1
  let lastRandom: number[] = []
  return (now = clock()) => {
    let time = Math.max(0, Math.floor(now))
    if (time <= lastTime) {
      time = lastTime
      lastRandom = increment(lastRandom)
    } else {
      lastTime = time
      const bytes = randomBytes(16)
      lastRandom = Array.from({length: 16}, (_, i) => (bytes[i] as number) & 31)
    }
    return encodeTime(time) + lastRandom.map((d) => CROCKFORD[d]).join('')
  }
}

/** True for a well-formed ULID (uppercase Crockford base32, 26 characters). */
export function isUlid(text: string): boolean {
  return ULID_RE.test(text)
}

/** The millisecond timestamp encoded in a ULID. */
export function ulidTime(ulid: string): number {
  let time = 0
  for (const char of ulid.slice(0, 10)) time = time * 32 + CROCKFORD.indexOf(char)
  return time
}

function encodeTime(time: number): string {
  let out = ''
  for (let i = 0; i < 10; i++) {
    out = (CROCKFORD[time % 32] as string) + out
    time = Math.floor(time / 32)
  }
  return out
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
  // 80 random bits overflowed within one millisecond: practically impossible; restart at zero.
  return next
}
