import {z} from 'zod'
import {route} from '../../../lib/rpc/route.js'
import {Hex64} from '../../../lib/schema/primitives.js'

const O = ['operator'] as const

/** Input of POST /ledger/cosignatures: a witness's C2SP cosignature of one of this node's checkpoints. */
export const CosignatureInput = z.strictObject({
  size: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).describe('Tree size of the cosigned checkpoint'),
  root_hash: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'expected the base64 of a 32-byte root').describe('Base64 root the witness cosigned; must equal the stored checkpoint root'),
  witness: z.string().min(1).max(256).regex(/^[^\s+]+$/, 'a C2SP key name: no spaces or +').describe('Witness key name, e.g. osmoda/<instance_id>/witness'),
  witness_pubkey: Hex64.describe('The witness Ed25519 public key (hex) that mesh pinned for that peer'),
  cosignature: z.string().min(1).max(256).describe('base64(key id ‖ u64 timestamp ‖ Ed25519 signature), C2SP cosignature/v1'),
  ts: z.iso.datetime({offset: true}).describe('The cosignature timestamp (RFC 3339); must match the one inside the cosignature'),
})

/** agentd's witness routes: storing the cosignatures mesh peers return. */
export const witnessApi = {
  ledgerCosignatures: route('POST', '/ledger/cosignatures', {
    input: CosignatureInput,
    output: z.object({stored: z.literal(true)}),
    roles: O,
    summary: 'Store a witness cosignature after verifying it over the stored checkpoint',
  }),
} as const
