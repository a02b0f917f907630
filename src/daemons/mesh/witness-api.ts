import {z} from 'zod'
import {route} from '../../lib/rpc/route.js'
import {PeerId} from './rooms-wire.js'

const O = ['operator'] as const

/** One head of this node's ledger that a peer witnessed. */
export const WitnessHead = z.object({
  peer_id: PeerId,
  size: z.number().int().describe('Tree size the peer cosigned'),
  root_hash: z.string().describe('Base64 RFC 9162 root the peer cosigned'),
  cosignature: z.string().describe("The peer's C2SP cosignature (base64 key id ‖ timestamp ‖ Ed25519 signature)"),
  ts: z.string().describe('When the peer cosigned (RFC 3339)'),
})

/** mesh's witnessing routes, spread into meshApi. */
export const witnessApi = {
  witnessHeads: route('GET', '/witness/heads', {
    output: z.object({origin: z.string(), heads: z.array(WitnessHead)}),
    roles: O,
    summary: 'Ask every connected peer (10 s) for the newest head of this ledger it witnessed',
  }),
} as const
