import {OsmodaError} from '../errors.js'
import {sha256Hex} from './sha256.js'

/** prev_hash of the first event: 32 zero bytes as hex. */
export const GENESIS_PREV_HASH = '0'.repeat(64)

/** An event type: `<domain>.<event>` in snake case. */
export const EVENT_TYPE_RE = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/

/** A stored hash or prev_hash: 64 lowercase hex characters. */
export const HASH_HEX_RE = /^[0-9a-f]{64}$/

/** A stored ts: UTC RFC 3339 with exactly three fractional digits and `Z`. */
export const TS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

/** Domain-separation tag ‖ 0x00 that starts every event preimage. */
export const HASH_DOMAIN = Buffer.from('osmoda.ledger.v1\0', 'latin1')

/** The fields an event hash covers; `payload` is the stored canonical JSON text. */
export interface HashInput {
  prev_hash: string
  seq: number
  ts: string
  type: string
  actor: string
  payload: string
}

/**
 * Returns a hasher that reuses one growing scratch buffer for the preimage, so hashing a stream of
 * rows (verification) allocates almost nothing per row. Inputs must already be well-formed: the
 * verifier checks formats itself so that it can report them as `malformed` rather than throw.
 */
export function createEventHasher(): (event: HashInput) => string {
  let scratch = allocateScratch(1024)
  return (event) => {
    const seq = String(event.seq)
    // UTF-8 needs at most 3 bytes per UTF-16 code unit; 5 length prefixes of 4 bytes.
    const bound = HASH_DOMAIN.length + 32 + 20 + seq.length + 3 * (event.ts.length + event.type.length + event.actor.length + event.payload.length)
    if (bound > scratch.length) scratch = allocateScratch(Math.max(bound, scratch.length * 2))
    let offset = HASH_DOMAIN.length
    // Buffer#write('hex') stops at the first non-hex pair, hence the explicit count check.
    if (event.prev_hash.length !== 64 || scratch.write(event.prev_hash, offset, 'hex') !== 32) {
      throw new OsmodaError('VALIDATION_FAILED', 'prev_hash must be 64 hex characters', {details: ['prev_hash: 64 lowercase hex']})
    }
    offset += 32
    offset = putField(scratch, offset, seq)
    offset = putField(scratch, offset, event.ts)
    offset = putField(scratch, offset, event.type)
    offset = putField(scratch, offset, event.actor)
    offset = putField(scratch, offset, event.payload)
    return sha256Hex(scratch.subarray(0, offset))
  }
}

// The domain tag never changes, so it is written once per scratch buffer, not once per event.
function allocateScratch(size: number): Buffer {
  const buf = Buffer.allocUnsafe(size)
  HASH_DOMAIN.copy(buf, 0)
  return buf
}

function putField(buf: Buffer, offset: number, value: string): number {
  const length = buf.write(value, offset + 4, 'utf8')
  buf.writeUInt32BE(length, offset)
  return offset + 4 + length
}

/**
 * The event hash, hex SHA-256("osmoda.ledger.v1" 0x00 ‖ prev_hash(32 raw bytes) ‖ F(seq) ‖ F(ts) ‖
 * F(type) ‖ F(actor) ‖ F(payload)) with F(x) = uint32be(byte length of UTF-8 x) ‖ UTF-8 x.
 */
export function hashEvent(event: HashInput): string {
  if (!HASH_HEX_RE.test(event.prev_hash)) {
    throw new OsmodaError('VALIDATION_FAILED', 'prev_hash must be 64 lowercase hex characters', {details: ['prev_hash: 64 lowercase hex']})
  }
  if (!Number.isSafeInteger(event.seq) || event.seq < 1) {
    throw new OsmodaError('VALIDATION_FAILED', `seq must be a positive integer, got ${event.seq}`, {details: ['seq: positive integer']})
  }
  return createEventHasher()(event)
}

/** Formats an instant as the ledger's ts: `2026-11-25T21:30:00.123Z`. */
export function formatTs(date: Date | number): string {
  const d = typeof date === 'number' ? new Date(date) : date
  const text = Number.isNaN(d.getTime()) ? '' : d.toISOString()
  // toISOString switches to ±YYYYYY outside years 0–9999, which the fixed-width format cannot hold.
  if (!TS_RE.test(text)) throw new OsmodaError('VALIDATION_FAILED', `cannot format ${String(date)} as a ledger timestamp`, {details: ['ts: a date between years 0000 and 9999']})
  return text
}
