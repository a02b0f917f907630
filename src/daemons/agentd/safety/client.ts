import type {z} from 'zod'
import {OsmodaError} from '../../../lib/errors.js'
import {SafetyStatus} from './api.js'

/** Errors that mean agentd itself is not answering (as opposed to answering with an error). */
const AGENTD_DOWN = new Set(['DAEMON_UNAVAILABLE', 'NOT_READY', 'UPSTREAM_TIMEOUT'])

/**
 * agentd's safety status, or, when agentd is down, the same facts read on this host (SPEC §3
 * safety_status, §4 `osmoda safety status`). The local readers load only on that path.
 */
export async function safetyStatusWithFallback(
  client: {safetyStatus(input?: Record<string, never>): Promise<z.output<typeof SafetyStatus>>},
  options: {runDir: string; profile?: string},
): Promise<z.output<typeof SafetyStatus>> {
  try {
    return await client.safetyStatus()
  } catch (error) {
    if (!(error instanceof OsmodaError) || !AGENTD_DOWN.has(error.code)) throw error
    return localSafetyStatus(options)
  }
}

/** The safety status read on this host alone (`source: "local"`), without asking agentd. */
export async function localSafetyStatus(options: {runDir: string; profile?: string}): Promise<z.output<typeof SafetyStatus>> {
  const {readLocalSafetyStatus} = await import('./local-status.js')
  return SafetyStatus.parse(await readLocalSafetyStatus(options))
}
