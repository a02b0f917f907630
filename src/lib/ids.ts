import {randomBytes} from 'node:crypto'

/** Crockford base32 (no I, L, O, U), the ULID alphabet. */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const MAX_TIME = 2 ** 48 - 1

/** A ULID: 26 Crockford base32 characters, 48-bit millisecond time then 80 random bits. */
export const ULID_RE = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/

/** `<prefix>_<ULID>` ids of SPEC §1.9, e.g. `bak_01JD…`. */
export function prefixedIdRe(prefix: string): RegExp {
  return new RegExp(`^${prefix}_[0-7][0-9A-HJKMNP-TV-Z]{25}$`)
}

/** A function returning a new ULID on each call. */
export type UlidGenerator = () => string

/** Options of createUlidGenerator; injectable so tests can pin the clock and the randomness. */
export interface UlidOptions {
  clock?: () => number
  /** 10 random bytes per call. */
  random?: () => Buffer
}

function encodeTime(ms: number): string {
  let out = ''
  for (let i = 0; i < 10; i++) {
    out = (CROCKFORD[ms % 32] as string) + out
    ms = Math.floor(ms / 32)
  }
  return out
}

function encodeRandom(bytes: Uint8Array): string {
  // 80 bits = 16 groups of 5, most significant first.
  let value = 0n
  for (const b of bytes) value = (value << 8n) | BigInt(b)
  let out = ''
  for (let i = 0; i < 16; i++) {
    out = (CROCKFORD[Number(value & 31n)] as string) + out
    value >>= 5n
  }
  return out
}

/**
 * A ULID generator that is monotonic within one millisecond (the random part of a second id in the
 * same ms is the previous one plus 1), so ids made by one generator sort in creation order. The
 * state lives in the returned function, never in the module.
 */
export function createUlidGenerator(options: UlidOptions = {}): () => string {
  const clock = options.clock ?? Date.now
  const random = options.random ?? (() => randomBytes(10))
  let lastTime = -1
  let lastRandom = new Uint8Array(10)
  return () => {
    let now = Math.floor(clock())
    if (!Number.isSafeInteger(now) || now < 0 || now > MAX_TIME) throw new RangeError(`clock value ${now} is outside the ULID time range`)
    // A clock that steps back keeps the previous time: ids stay sorted.
    if (now < lastTime) now = lastTime
    if (now === lastTime) {
      const next = Uint8Array.from(lastRandom)
      let i = next.length - 1
      while (i >= 0 && next[i] === 0xff) next[i--] = 0
      if (i < 0) throw new RangeError('ULID random part overflowed within one millisecond')
      next[i] = (next[i] as number) + 1
      lastRandom = next
    } else {
      const bytes = random()
      if (bytes.length !== 10) throw new RangeError('the ULID random source must give 10 bytes')
      lastRandom = Uint8Array.from(bytes)
      lastTime = now
    }
    return encodeTime(now) + encodeRandom(lastRandom)
  }
}

/** A generator of `<prefix>_<ULID>` ids (SPEC §1.9). */
export function createIdGenerator(options: UlidOptions = {}): (prefix: string) => string {
  const ulid = createUlidGenerator(options)
  return (prefix) => {
    if (!/^[a-z]{2,5}$/.test(prefix)) throw new RangeError(`id prefix ${JSON.stringify(prefix)} is not 2–5 lowercase letters`)
    return `${prefix}_${ulid()}`
  }
}

/** The creation time (ms since the epoch) encoded in a ULID or `<prefix>_<ULID>`. */
export function ulidTime(id: string): number {
  const ulid = id.slice(id.length - 26)
  if (!ULID_RE.test(ulid)) throw new RangeError(`${JSON.stringify(id)} does not end in a ULID`)
  let ms = 0
  for (const ch of ulid.slice(0, 10)) ms = ms * 32 + CROCKFORD.indexOf(ch)
  return ms
}
