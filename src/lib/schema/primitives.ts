import {z} from 'zod'

/** UTC RFC 3339 with milliseconds and Z, as osmoda writes every timestamp. */
export const IsoTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)

/** 64 lowercase hex characters (SHA-256). */
export const Hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters')

/** A ledger sequence number. */
export const Seq = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)

/** A ledger event type filter: an exact `domain.event` or a prefix written `domain.*`. */
export const EventTypeFilter = z
  .string()
  .max(64)
  .regex(/^[a-z][a-z0-9_]*(\.([a-z][a-z0-9_]*|\*))?$/, 'expected domain.event or domain.*')

/**
 * A list limit: positive integer; values above `max` are clamped to it (SPEC §1.7), 0, negative or
 * fractional values are rejected.
 */
export function limit(defaultValue: number, max: number) {
  return z
    .number()
    .int()
    .min(1)
    .default(defaultValue)
    .transform((n) => Math.min(n, max))
    .describe(`How many items to return (default ${defaultValue}, at most ${max}; larger values are clamped)`)
}

/** The common part of every daemon's GET /health (SPEC §1.14). */
export const HealthBase = z.object({
  status: z.enum(['ok', 'degraded', 'starting']),
  daemon: z.string(),
  version: z.string(),
  pid: z.number().int(),
  uptime_secs: z.number(),
  problems: z.array(z.string()).optional(),
})
