import {z} from 'zod'

const Size = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
const Root = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'expected the base64 of a 32-byte root')
const Cosig = z.string().regex(/^[A-Za-z0-9+/]{102}==$/, "expected the base64 of 76 bytes (key id, timestamp, signature)")

/** Longest checkpoint note accepted from a peer. */
export const MAX_NOTE_BYTES = 8192

/** `checkpoint{note}`: the origin's latest signed checkpoint. */
export const WireCheckpoint = z.strictObject({type: z.literal('checkpoint'), note: z.string().min(1).max(MAX_NOTE_BYTES)})
/** `consistency_request{old, new}` (witness → origin). */
export const WireConsistencyRequest = z.strictObject({type: z.literal('consistency_request'), old: Size.min(1), new: Size.min(1)})
/** `consistency_reply{old, new, hashes}` (origin → witness): RFC 9162 proof, base64 hashes. */
export const WireConsistencyReply = z.strictObject({type: z.literal('consistency_reply'), old: Size.min(1), new: Size.min(1), hashes: z.array(Root).max(128)})
/** `cosignature{size, root_hash, witness, cosignature, ts}` (witness → origin). */
export const WireCosignature = z.strictObject({
  type: z.literal('cosignature'),
  size: Size.min(1),
  root_hash: Root,
  witness: z.string().min(1).max(256),
  cosignature: Cosig,
  ts: z.string().max(40),
})
/** `witness_head_request{origin}`. */
export const WireHeadRequest = z.strictObject({type: z.literal('witness_head_request'), origin: z.string().min(1).max(256)})
/** `witness_head_reply{origin, size, root_hash, cosignature, ts}`; null fields when no head is held. */
export const WireHeadReply = z.strictObject({
  type: z.literal('witness_head_reply'),
  origin: z.string().min(1).max(256),
  size: Size.min(1).nullable(),
  root_hash: Root.nullable(),
  cosignature: Cosig.nullable(),
  ts: z.string().max(40).nullable(),
})
