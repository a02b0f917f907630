import type {IncomingMessage} from 'node:http'
import {OsmodaError} from '../errors.js'

/**
 * Reads a JSON object body up to `limit` bytes. An empty body is `{}` so routes without required
 * fields can be called bare; the schema then reports any missing field.
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > limit) throw tooLarge(limit)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) throw tooLarge(limit)
    chunks.push(chunk)
  }
  if (size === 0) return {}
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
  if (type !== 'application/json') throw new OsmodaError('UNSUPPORTED_MEDIA_TYPE', `expected Content-Type application/json, got ${type || 'none'}`)
  let value: unknown
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch (error) {
    throw new OsmodaError('INVALID_JSON', `request body is not valid JSON: ${(error as Error).message}`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new OsmodaError('INVALID_JSON', 'request body must be a JSON object')
  return value as Record<string, unknown>
}

function tooLarge(limit: number): OsmodaError {
  return new OsmodaError('PAYLOAD_TOO_LARGE', `request body is over the ${limit}-byte limit`, {details: {limit_bytes: limit}})
}
