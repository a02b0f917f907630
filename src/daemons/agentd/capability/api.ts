import {z} from 'zod'
import {AUDIENCES, CAPABILITY_ID_RE, MAX_PERMISSIONS, MAX_TOKEN_LENGTH, parsePermission} from '../../../lib/capability.js'
import {route} from '../../../lib/rpc/route.js'
import {IsoTime} from '../../../lib/schema/primitives.js'

const O = ['operator'] as const
const OA = ['operator', 'agent'] as const

/** A capability token id, `cap_<ULID>`. */
export const CapabilityId = z.string().regex(CAPABILITY_ID_RE, 'expected cap_ followed by a 26-character ULID')

const PermissionText = z
  .string()
  .min(4)
  .max(4200)
  .superRefine((text, ctx) => {
    try {
      parsePermission(text)
    } catch (error) {
      ctx.addIssue({code: 'custom', message: (error as Error).message})
    }
  })

const GrantedTo = z
  .string()
  .min(1)
  .max(128)
  .refine((text) => [...text].every((c) => c > ' ' && c !== '\u007f'), 'printable characters without spaces, e.g. "sandbox:build" or "mcp:github"')

/** Input of POST /capability/mint: the `capability_mint` tool's parameters. */
export const CapabilityMintInput = z.strictObject({
  granted_to: GrantedTo.describe('Who will hold the token, e.g. "sandbox:build" or "mcp:github" (1..128 characters)'),
  permissions: z
    .array(PermissionText)
    .min(1)
    .max(MAX_PERMISSIONS)
    .describe(
      'What the holder may reach: "net:host[:port]" (exact host or *.suffix, port default 443) through egress, "fs:read:/abs/path" or ' +
        '"fs:write:/abs/path" in a tier-1 sandbox. Hosts outside the egress allowlist or paths outside the sandbox roots need the operator\'s approval.',
    ),
  ttl_secs: z.number().int().min(60).max(86_400).optional().describe('Lifetime in seconds (default 900, at most the configured maximum, 86400 by default)'),
  approval_id: z.string().min(1).max(64).optional().describe('The approved approval id when repeating a call that answered APPROVAL_REQUIRED'),
})

/** A minted token. */
export const CapabilityMinted = z.object({
  id: CapabilityId,
  token: z.string().describe('The osmcap1 token: pass it to sandbox_exec as `capability`; it is shown only once'),
  granted_to: z.string(),
  permissions: z.array(z.string()),
  issued_at: IsoTime,
  expires_at: IsoTime,
})

/** Input of POST /capability/verify. */
export const CapabilityVerifyInput = z.strictObject({
  token: z.string().min(1).max(MAX_TOKEN_LENGTH),
  audience: z.enum(AUDIENCES),
})

/** What a verification found. */
export const CapabilityVerifyOutput = z.object({
  valid: z.boolean(),
  reason: z.enum(['malformed', 'bad_signature', 'expired', 'not_yet_valid', 'wrong_audience', 'revoked']).nullable(),
  token_id: z.string().nullable(),
  granted_to: z.string().nullable(),
  permissions: z.array(z.string()).nullable(),
  expires_at: IsoTime.nullable(),
})

/** agentd's capability routes (SPEC §2.1). */
export const capabilityApi = {
  capabilityMint: route('POST', '/capability/mint', {input: CapabilityMintInput, output: CapabilityMinted, roles: OA}),
  capabilityVerify: route('POST', '/capability/verify', {input: CapabilityVerifyInput, output: CapabilityVerifyOutput, roles: O}),
  capabilityRevoke: route('POST', '/capability/revoke', {input: z.strictObject({token_id: CapabilityId}), output: z.object({revoked: z.literal(true)}), roles: O}),
  capabilityRevoked: route('GET', '/capability/revoked', {
    output: z.object({revoked: z.array(z.object({token_id: z.string(), expires_at: IsoTime}))}),
    roles: O,
    summary: 'Revoked tokens that have not expired yet (egress polls this list)',
  }),
} as const
