import {describe, expect, it} from 'vitest'
import {DEFAULT_RUN_LIMITS, runLimitsFromEnv} from './limits.js'

describe('runLimitsFromEnv', () => {
  it('uses the SPEC defaults, then config values, then env', () => {
    expect(runLimitsFromEnv({})).toEqual({chatWatchdogMs: 900_000, firstSignalTimeoutMs: 600_000, chatHardCapMs: 28_800_000})
    expect(runLimitsFromEnv({}, {chatWatchdogMs: 1000})).toEqual({...DEFAULT_RUN_LIMITS, chatWatchdogMs: 1000})
    expect(runLimitsFromEnv({OSMODA_CHAT_WATCHDOG_MS: '5000', OSMODA_FIRST_SIGNAL_TIMEOUT_MS: '6000', OSMODA_CHAT_HARD_CAP_MS: '7000'}, {chatWatchdogMs: 1000})).toEqual({
      chatWatchdogMs: 5000,
      firstSignalTimeoutMs: 6000,
      chatHardCapMs: 7000,
    })
  })

  it('accepts the unprefixed names, the prefixed ones winning', () => {
    expect(runLimitsFromEnv({CHAT_WATCHDOG_MS: '1234', FIRST_SIGNAL_TIMEOUT_MS: '2345'})).toMatchObject({chatWatchdogMs: 1234, firstSignalTimeoutMs: 2345})
    expect(runLimitsFromEnv({CHAT_WATCHDOG_MS: '1234', OSMODA_CHAT_WATCHDOG_MS: '999'}).chatWatchdogMs).toBe(999)
    expect(runLimitsFromEnv({OSMODA_CHAT_WATCHDOG_MS: ''}).chatWatchdogMs).toBe(900_000)
  })

  it.each(['0', '-5', '1.5', 'ten', '1e6'])('rejects %j with the variable named', (value) => {
    expect(() => runLimitsFromEnv({OSMODA_CHAT_HARD_CAP_MS: value})).toThrow(/OSMODA_CHAT_HARD_CAP_MS must be a positive integer/)
  })
})
