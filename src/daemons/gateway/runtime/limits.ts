import type {RunLimits} from './types.js'

/** SPEC §2.10 defaults: watchdog 15 min, first signal 10 min, hard cap 8 h. */
export const DEFAULT_RUN_LIMITS: RunLimits = {chatWatchdogMs: 900_000, firstSignalTimeoutMs: 600_000, chatHardCapMs: 28_800_000}

const ENV_NAMES: Record<keyof RunLimits, string[]> = {
  chatWatchdogMs: ['OSMODA_CHAT_WATCHDOG_MS', 'CHAT_WATCHDOG_MS'],
  firstSignalTimeoutMs: ['OSMODA_FIRST_SIGNAL_TIMEOUT_MS', 'FIRST_SIGNAL_TIMEOUT_MS'],
  chatHardCapMs: ['OSMODA_CHAT_HARD_CAP_MS', 'CHAT_HARD_CAP_MS'],
}

/**
 * The run caps: env (`OSMODA_*`, then the product's older unprefixed names) over the config's
 * values over the defaults (SPEC §1.13). A value that is not a positive integer is an error naming
 * the variable, never silently ignored.
 */
export function runLimitsFromEnv(env: Record<string, string | undefined>, configDefaults: Partial<RunLimits> = {}): RunLimits {
  const limits: RunLimits = {...DEFAULT_RUN_LIMITS, ...configDefaults}
  for (const key of Object.keys(ENV_NAMES) as (keyof RunLimits)[]) {
    for (const name of ENV_NAMES[key]) {
      const raw = env[name]
      if (raw === undefined || raw === '') continue
      if (!/^[1-9][0-9]{0,12}$/.test(raw.trim())) throw new Error(`${name} must be a positive integer number of milliseconds, got ${JSON.stringify(raw)}`)
      limits[key] = Number(raw.trim())
      break
    }
  }
  return limits
}
