import {useEffect, useState} from 'react'
import {OsmodaError} from '../../errors.js'
import type {TuiHealth, TuiSources} from '../sources.js'

/** up: /health answered; down: no socket or nothing listening; unreachable: any other failure. */
export type DaemonState = 'up' | 'down' | 'unreachable'

/** One daemon in the header. */
export interface DaemonRow {
  daemon: string
  state: DaemonState
  status: TuiHealth['status'] | null
  pid: number | null
  uptime_secs: number | null
  /** From /proc/<pid>/status when the pid is local, else what /health reports (rss_bytes), else null. */
  rss_bytes: number | null
  problem: string | null
}

/** Turns one /health outcome into a header row. */
export function daemonRow(daemon: string, outcome: {health: TuiHealth} | {error: unknown}, rss: (pid: number) => number | null): DaemonRow {
  if ('health' in outcome) {
    const {health} = outcome
    const reported = typeof health.rss_bytes === 'number' ? health.rss_bytes : null
    return {
      daemon,
      state: 'up',
      status: health.status,
      pid: health.pid,
      uptime_secs: health.uptime_secs,
      rss_bytes: rss(health.pid) ?? reported,
      problem: health.problems?.length ? health.problems.join('; ') : null,
    }
  }
  const error = outcome.error
  const code = error instanceof OsmodaError ? error.code : 'INTERNAL'
  const message = error instanceof Error ? error.message : String(error)
  return {daemon, state: code === 'DAEMON_UNAVAILABLE' ? 'down' : 'unreachable', status: null, pid: null, uptime_secs: null, rss_bytes: null, problem: `${code}: ${message}`}
}

/** Polls every daemon's /health (null until the first round has answered). */
export function useDaemonHealth(sources: TuiSources, intervalMs = 2000): DaemonRow[] | null {
  const [rows, setRows] = useState<DaemonRow[] | null>(null)
  useEffect(() => {
    let stopped = false
    let timer: NodeJS.Timeout | undefined
    const poll = async () => {
      const next = await Promise.all(
        sources.daemons.map(async (daemon) => daemonRow(daemon, await sources.health(daemon).then((health) => ({health}), (error: unknown) => ({error})), (pid) => sources.rss(pid))),
      )
      if (stopped) return
      setRows(next)
      timer = setTimeout(() => void poll(), intervalMs)
    }
    void poll()
    return () => {
      stopped = true
      clearTimeout(timer)
    }
  }, [sources, intervalMs])
  return rows
}
