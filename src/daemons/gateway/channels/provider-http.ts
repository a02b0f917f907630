import {OsmodaError} from '../../../lib/errors.js'

/** The fetch the channels use; injectable so tests can point elsewhere or fail on purpose. */
export type FetchLike = (url: string, init: {method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal}) => Promise<{
  status: number
  text(): Promise<string>
}>

/** Provider calls time out after this long (long polls add their own timeout). */
export const PROVIDER_TIMEOUT_MS = 15_000

/**
 * POSTs JSON to a provider API and returns the parsed answer. The URL may hold a secret (the Bot
 * API puts the token in the path), so errors name only `what`, never the URL.
 */
export async function postJson(
  fetchImpl: FetchLike,
  url: string,
  body: unknown,
  options: {what: string; headers?: Record<string, string>; timeoutMs?: number; signal?: AbortSignal},
): Promise<{status: number; json: unknown}> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? PROVIDER_TIMEOUT_MS)
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout
  let response: Awaited<ReturnType<FetchLike>>
  try {
    response = await fetchImpl(url, {method: 'POST', headers: {'content-type': 'application/json', ...options.headers}, body: JSON.stringify(body), signal})
  } catch (error) {
    if (options.signal?.aborted) throw error
    if (timeout.aborted) throw new OsmodaError('UPSTREAM_TIMEOUT', `${options.what} timed out`)
    throw new OsmodaError('UPSTREAM_FAILED', `${options.what} failed: ${(error as Error).name}`, {details: {cause: causeCode(error)}})
  }
  const text = await response.text()
  let json: unknown = null
  try {
    json = text === '' ? null : JSON.parse(text)
  } catch {
    json = null
  }
  return {status: response.status, json}
}

function causeCode(error: unknown): string | null {
  const cause = (error as {cause?: {code?: unknown}}).cause
  return typeof cause?.code === 'string' ? cause.code : null
}
