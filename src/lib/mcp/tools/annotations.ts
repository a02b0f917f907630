/** SPEC §3 annotation sets shared by the agentd tool modules. */
export const READ_ONLY = {readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false} as const
/** Recording work: not read-only, destroys nothing, and a repeat adds another record. */
export const RECORD = {readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false} as const
/** Acts that change the host for good and are not safe to repeat blindly (SPEC §3 "D"). */
export const DESTRUCTIVE = {readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false} as const
