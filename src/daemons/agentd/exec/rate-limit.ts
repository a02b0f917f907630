import type {Db} from '../../../lib/db/open.js'
import {OsmodaError} from '../../../lib/errors.js'

/** `exec.rateLimit`: at most `calls` per agent in any window of `windowSecs`. */
export interface RateLimit {
  calls: number
  windowSecs: number
}

/** The per-agent sliding window of shell_exec calls, kept in agentd.db's exec_rate so it survives restarts. */
export interface ExecRateLimiter {
  /** Records one call by `agentId`, or throws 429 RATE_LIMITED (recording nothing) when the window is full. */
  take(agentId: string, limit: RateLimit): void
}

/** A limiter over the `exec_rate` table of agentd.db. */
export function createExecRateLimiter(db: Db, now: () => number = Date.now): ExecRateLimiter {
  const prune = db.prepare('DELETE FROM exec_rate WHERE agent_id = ? AND ts_ms <= ?')
  const window = db.prepare('SELECT count(*) AS n, min(ts_ms) AS oldest FROM exec_rate WHERE agent_id = ?')
  const insert = db.prepare('INSERT INTO exec_rate (agent_id, ts_ms) VALUES (?, ?)')
  // IMMEDIATE: two agentd requests (or processes) must not both see room for the last call.
  const take = db.transaction((agentId: string, limit: RateLimit, at: number) => {
    const windowMs = limit.windowSecs * 1000
    prune.run(agentId, at - windowMs)
    const {n, oldest} = window.get(agentId) as {n: number; oldest: number | null}
    if (n >= limit.calls) {
      const retryAfter = Math.max(1, Math.ceil(((oldest ?? at) + windowMs - at) / 1000))
      throw new OsmodaError('RATE_LIMITED', `agent ${agentId} made ${n} shell_exec calls in the last ${limit.windowSecs} s (limit ${limit.calls})`, {
        details: {retry_after_secs: retryAfter},
        hint: `Wait ${retryAfter} s before the next shell_exec, or batch the work into fewer commands.`,
      })
    }
    insert.run(agentId, at)
  })
  return {
    take: (agentId, limit) => take.immediate(agentId, limit, now()),
  }
}
