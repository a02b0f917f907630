import {Cron} from 'croner'
import type {Trigger} from './api.js'

/** Time and timers, injected so tests can move time without sleeping. */
export interface Clock {
  now(): number
  setTimer(fn: () => void, ms: number): unknown
  clearTimer(handle: unknown): void
}

/** The real clock. */
export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => {
    const timer = setTimeout(fn, ms)
    timer.unref?.()
    return timer
  },
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

// setTimeout overflows past 2^31-1 ms; long waits re-arm until due.
const MAX_TIMER_MS = 2 ** 31 - 1
/** Longest extra delay for an overdue interval routine after a restart (SPEC §2.4). */
export const OVERDUE_JITTER_MS = 30_000

/** The next cron fire strictly after `afterMs`, or null when the expression never fires again. */
export function nextCronRun(trigger: Extract<Trigger, {type: 'cron'}>, afterMs: number): number | null {
  const next = new Cron(trigger.expression, {paused: true, mode: '5-part', timezone: trigger.timezone}).nextRun(new Date(afterMs))
  return next ? next.getTime() : null
}

/**
 * When a time-triggered routine runs next. Interval: `last_run_at + seconds`, or, if that is past
 * (overdue after a restart), after a random 0–30 s delay; never run before → one interval from
 * now. Cron: the next matching minute after now; missed minutes are never caught up.
 */
export function nextRunAt(trigger: Trigger, lastRunAtMs: number | null, nowMs: number, random: () => number = Math.random): number | null {
  if (trigger.type === 'cron') return nextCronRun(trigger, nowMs)
  if (trigger.type !== 'interval') return null
  if (lastRunAtMs === null) return nowMs + trigger.seconds * 1000
  const due = lastRunAtMs + trigger.seconds * 1000
  return due > nowMs ? due : nowMs + Math.floor(random() * OVERDUE_JITTER_MS)
}

/**
 * One timer per routine (no global tick). `arm` replaces the routine's timer; when it fires,
 * `fire(id)` runs and the caller re-arms with the next time.
 */
export function createTimers(clock: Clock) {
  const timers = new Map<string, {handle: unknown; at: number}>()
  const arm = (id: string, at: number, fire: (id: string) => void): void => {
    cancel(id)
    const wait = Math.max(0, Math.min(at - clock.now(), MAX_TIMER_MS))
    const handle = clock.setTimer(() => {
      if (timers.get(id)?.handle !== handle) return
      if (clock.now() < at) return arm(id, at, fire)
      timers.delete(id)
      fire(id)
    }, wait)
    timers.set(id, {handle, at})
  }
  const cancel = (id: string): void => {
    const timer = timers.get(id)
    if (timer) clock.clearTimer(timer.handle)
    timers.delete(id)
  }
  return {
    arm,
    cancel,
    at: (id: string): number | null => timers.get(id)?.at ?? null,
    cancelAll(): void {
      for (const id of [...timers.keys()]) cancel(id)
    },
  }
}

/** The per-routine timers. */
export type Timers = ReturnType<typeof createTimers>
