import {useCallback} from 'react'
import type {SwitchSession, TuiSources, Watcher} from '../sources.js'
import {usePolled, type Polled} from './use-polled.js'

/** watch's active SafeSwitch sessions and its watchers. */
export interface WatchState {
  switches: Polled<SwitchSession[]>
  watchers: Polled<Watcher[]>
}

/** Polls watch (refreshing on each `switch.*`/`watcher.*` event); errors say watch is not running. */
export function useWatchState(sources: TuiSources, options: {intervalMs?: number; trigger?: unknown} = {}): WatchState {
  const readSwitches = useCallback(() => sources.activeSwitches(), [sources])
  const readWatchers = useCallback(() => sources.watchers(), [sources])
  const interval = options.intervalMs ?? 3000
  return {switches: usePolled(readSwitches, interval, options.trigger), watchers: usePolled(readWatchers, interval, options.trigger)}
}
