import {createHash, timingSafeEqual} from 'node:crypto'
import type {IncomingHttpHeaders} from 'node:http'
import {OsmodaError} from '../../../lib/errors.js'

/** Webhook bodies are at most 1 MiB (SPEC §2.10). */
export const WEBHOOK_MAX_BODY = 1024 * 1024

/** A webhook request as the channel handlers see it: the raw body is kept for signatures. */
export interface WebhookRequest {
  method: string
  headers: IncomingHttpHeaders
  query: URLSearchParams
  body: Buffer
}

/** A webhook answer: JSON unless `text` is set (the WhatsApp challenge is echoed as plain text). */
export type WebhookResponse = {status: number; json: unknown} | {status: number; text: string}

/**
 * Constant-time string equality. Both sides are hashed first so neither the content nor the
 * length of the expected secret leaks through timing.
 */
export function secretEquals(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b) && given.length === expected.length
}

/** 401 UNAUTHENTICATED for a webhook whose secret or signature does not match (SPEC §1.5). */
export function webhookUnauthenticated(channel: string, what: string): OsmodaError {
  return new OsmodaError('UNAUTHENTICATED', `${channel} webhook ${what}`, {hint: `check the ${channel} channel secrets in gateway.json`})
}

/** A JSON webhook body, or 400 INVALID_JSON. */
export function parseWebhookJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    throw new OsmodaError('INVALID_JSON', 'webhook body is not valid JSON')
  }
}

/** The first value of a header. */
export function headerOf(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}
