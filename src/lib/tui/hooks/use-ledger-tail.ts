import {useCallback, useEffect, useLayoutEffect, useRef, useState} from 'react'
import {describeFilter, matchesFilter, type LogFilter} from '../format.js'
import type {TuiEvent, TuiSources} from '../sources.js'
import {runLedgerTail, type TailState, type TailTiming} from './ledger-tail.js'

/** One line of the event log: an event, or a note such as a reconnection or a filter change. */
export type LogLine = {id: number} & LogEntry

/** A log line before it is numbered. */
export type LogEntry = {kind: 'event'; event: TuiEvent} | {kind: 'note'; text: string; tone: 'info' | 'warn'}

/** What the event log shows and the controls over it. */
export interface LedgerTail {
  /** Lines printed in the current batch (append-only: the log is `<Static>`). */
  lines: LogLine[]
  /** Changes when a new batch starts: the log's `<Static>` is keyed by it, so printed batches can be dropped from memory. */
  batch: number
  state: TailState
  paused: boolean
  /** Lines held back while paused. */
  held: number
  filter: LogFilter
  /** Newest seq of an `approval.*` event seen (panels refresh on it). */
  approvalSeq: number
  /** Newest seq of a `switch.*`/`watcher.*` event seen. */
  watchSeq: number
  togglePause(): void
  /** Replaces the filter (or derives it from the current one). */
  setFilter(filter: LogFilter | ((current: LogFilter) => LogFilter)): void
}

const HISTORY = 2000
const REPLAY_ON_FILTER = 10
const BATCH = 500

/**
 * The live ledger for the event log: runs the tail loop, applies the type/actor filter to what is
 * printed, holds lines back while paused (printing them on resume), and keeps the newest events so
 * a new filter can show the last matching ones at once.
 */
export function useLedgerTail(sources: TuiSources, options: {backlog?: number; initialFilter?: LogFilter; timing?: Partial<TailTiming>} = {}): LedgerTail {
  const [log, setLog] = useState<{batch: number; lines: LogLine[]}>({batch: 0, lines: []})
  // <Static> prints only items past those it has seen, so a long-running dashboard would keep every
  // line forever; instead a full batch is replaced by a new one under a new key (printed lines stay
  // on the terminal, not in memory).
  const printed = useRef({batch: 0, count: 0})
  useLayoutEffect(() => {
    printed.current = {batch: log.batch, count: log.lines.length}
  }, [log])
  const append = useCallback((more: LogLine[]) => {
    setLog((prev) => {
      if (prev.lines.length + more.length <= BATCH) return {batch: prev.batch, lines: [...prev.lines, ...more]}
      // Lines appended since the last render have not been printed yet: they move to the new batch.
      const unprinted = prev.batch === printed.current.batch ? prev.lines.slice(printed.current.count) : prev.lines
      return {batch: prev.batch + 1, lines: [...unprinted, ...more]}
    })
  }, [])
  const [state, setState] = useState<TailState>({kind: 'connecting'})
  const [paused, setPaused] = useState(false)
  const [held, setHeld] = useState(0)
  const [filter, setFilterState] = useState<LogFilter>(options.initialFilter ?? {})
  const [approvalSeq, setApprovalSeq] = useState(0)
  const [watchSeq, setWatchSeq] = useState(0)
  const nextId = useRef(1)
  const history = useRef<TuiEvent[]>([])
  const heldLines = useRef<LogLine[]>([])
  const pausedRef = useRef(false)
  const filterRef = useRef<LogFilter>(filter)

  const emit = useCallback((entry: LogEntry) => {
    const full: LogLine = {...entry, id: nextId.current++}
    if (pausedRef.current) {
      heldLines.current.push(full)
      setHeld(heldLines.current.length)
    } else {
      append([full])
    }
  }, [append])

  useEffect(() => {
    const controller = new AbortController()
    void runLedgerTail(
      sources,
      {
        event: (event) => {
          history.current.push(event)
          if (history.current.length > HISTORY) history.current.splice(0, history.current.length - HISTORY)
          if (event.type.startsWith('approval.')) setApprovalSeq(event.seq)
          if (event.type.startsWith('switch.') || event.type.startsWith('watcher.')) setWatchSeq(event.seq)
          // Filtered when printed, not when received: a paused log applies the filter at resume.
          if (pausedRef.current || matchesFilter(event, filterRef.current)) emit({kind: 'event', event})
        },
        note: (text, tone) => emit({kind: 'note', text, tone}),
        state: setState,
      },
      controller.signal,
      {backlog: options.backlog ?? 20, timing: options.timing},
    )
    return () => controller.abort()
    // The loop runs once per sources object; filter and pause reach it through refs.
  }, [sources])

  const togglePause = useCallback(() => {
    if (!pausedRef.current) {
      pausedRef.current = true
      setPaused(true)
      return
    }
    pausedRef.current = false
    const release = heldLines.current.filter((line) => line.kind === 'note' || matchesFilter(line.event, filterRef.current))
    heldLines.current = []
    setHeld(0)
    setPaused(false)
    append([{id: nextId.current++, kind: 'note', text: `… resumed: ${release.length} line(s) held while paused`, tone: 'info'}, ...release])
  }, [append])

  const setFilter = useCallback(
    (update: LogFilter | ((current: LogFilter) => LogFilter)) => {
      const next = typeof update === 'function' ? update(filterRef.current) : update
      filterRef.current = next
      setFilterState(next)
      const matching = history.current.filter((event) => matchesFilter(event, next)).slice(-REPLAY_ON_FILTER)
      const label = Object.keys(next).some((k) => next[k as keyof LogFilter]) ? `… filter ${describeFilter(next)}: the last ${matching.length} matching event(s) again, then new ones` : '… filter cleared'
      emit({kind: 'note', text: label, tone: 'info'})
      if (next.type || next.actor) for (const event of matching) emit({kind: 'event', event})
    },
    [emit],
  )

  return {lines: log.lines, batch: log.batch, state, paused, held, filter, approvalSeq, watchSeq, togglePause, setFilter}
}
