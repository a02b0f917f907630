import {useEffect, useState} from 'react'
import {OsmodaError} from '../../errors.js'

/** The latest answer of a polled read, or why it failed. */
export interface Polled<T> {
  data: T | null
  error: {code: string; message: string} | null
  /** True once the first answer (or failure) came. */
  loaded: boolean
}

/**
 * Calls `read` now, every `intervalMs`, and again whenever `trigger` changes (a ledger event of
 * the panel's domain), so a panel updates at once when something happens and polls otherwise.
 */
export function usePolled<T>(read: () => Promise<T>, intervalMs: number, trigger: unknown): Polled<T> {
  const [state, setState] = useState<Polled<T>>({data: null, error: null, loaded: false})
  useEffect(() => {
    let stopped = false
    let timer: NodeJS.Timeout | undefined
    const poll = async () => {
      clearTimeout(timer)
      try {
        const data = await read()
        if (!stopped) setState({data, error: null, loaded: true})
      } catch (error) {
        const code = error instanceof OsmodaError ? error.code : 'INTERNAL'
        if (!stopped) setState((prev) => ({data: prev.data, error: {code, message: error instanceof Error ? error.message : String(error)}, loaded: true}))
      }
      if (!stopped) timer = setTimeout(() => void poll(), intervalMs)
    }
    void poll()
    return () => {
      stopped = true
      clearTimeout(timer)
    }
  }, [read, intervalMs, trigger])
  return state
}
