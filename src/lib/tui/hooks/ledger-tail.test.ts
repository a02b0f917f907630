import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {fakeTuiSources, nextEvent} from '../../../../test/helpers/tui-fakes.js'
import {runLedgerTail, type TailState} from './ledger-tail.js'
import type {TuiEvent} from '../sources.js'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

function recorder() {
  const events: TuiEvent[] = []
  const notes: string[] = []
  const states: TailState[] = []
  return {events, notes, states, handlers: {event: (e: TuiEvent) => events.push(e), note: (t: string) => notes.push(t), state: (s: TailState) => states.push(s)}}
}

describe('runLedgerTail', () => {
  it('retries with doubling back-off capped at the maximum while agentd is away, then resets it', async () => {
    // Given agentd down from the start
    const fake = fakeTuiSources({events: [nextEvent(1, 'daemon.started', 'agentd')]})
    fake.down()
    const rec = recorder()
    const controller = new AbortController()
    const done = runLedgerTail(fake.sources, rec.handlers, controller.signal, {backlog: 10, timing: {initialMs: 500, maxMs: 4000, now: () => Date.now()}})
    // When time passes
    await vi.advanceTimersByTimeAsync(500 + 1000 + 2000 + 4000 + 4000 + 10)
    // Then the waits double up to the cap and one note says agentd cannot be reached
    const waits = rec.states.filter((s) => s.kind === 'reconnecting').map((s) => (s as {retryInMs: number}).retryInMs)
    expect(waits.slice(0, 6)).toEqual([500, 1000, 2000, 4000, 4000, 4000])
    expect(rec.notes).toEqual([expect.stringMatching(/^… cannot reach agentd \(DAEMON_UNAVAILABLE: .*\); retrying$/)])
    // When agentd comes back
    fake.up()
    await vi.advanceTimersByTimeAsync(4000)
    // Then the backlog arrives, a note says how long it took, and the state is live
    expect(rec.events.map((e) => e.seq)).toEqual([1])
    expect(rec.notes[1]).toMatch(/^… connected to agentd after \d+\.\d s$/)
    expect(rec.states.at(-1)).toEqual({kind: 'live', seq: 1})
    // And a later loss starts again from the initial delay
    fake.down()
    await vi.advanceTimersByTimeAsync(10)
    expect(rec.states.at(-1)).toMatchObject({kind: 'reconnecting', attempt: 1, retryInMs: 500})
    controller.abort()
    await vi.advanceTimersByTimeAsync(600)
    await done
  })

  it('says so when the ledger came back shorter (a restore) and follows from its head', async () => {
    const fake = fakeTuiSources({events: [nextEvent(1, 'daemon.started', 'agentd'), nextEvent(2, 'tool.called', 'agent:ops'), nextEvent(3, 'tool.called', 'agent:ops')]})
    const rec = recorder()
    const controller = new AbortController()
    let head = 3
    fake.sources.ledgerHead = async () => head
    const done = runLedgerTail(fake.sources, rec.handlers, controller.signal, {backlog: 10, timing: {initialMs: 100, maxMs: 100}})
    await vi.advanceTimersByTimeAsync(10)
    expect(rec.events.map((e) => e.seq)).toEqual([1, 2, 3])
    // When agentd returns with a ledger of 1 event
    fake.down()
    await vi.advanceTimersByTimeAsync(10)
    head = 1
    fake.up()
    await vi.advanceTimersByTimeAsync(200)
    expect(rec.notes.at(-1)).toMatch(/ledger head 1 is behind seq 3 .*following from 1/)
    expect(fake.followCalls.at(-1)).toBe(1)
    controller.abort()
    await vi.advanceTimersByTimeAsync(200)
    await done
  })

  it('starts at the head of an empty backlog and skips keepalives and repeated seqs', async () => {
    const fake = fakeTuiSources({events: [nextEvent(1, 'daemon.started', 'agentd'), nextEvent(2, 'tool.called', 'agent:ops')]})
    const rec = recorder()
    const controller = new AbortController()
    fake.sources.follow = async function* () {
      yield {keepalive: true as const, head_seq: 2}
      yield nextEvent(2, 'tool.called', 'agent:ops')
      yield nextEvent(3, 'memory.stored', 'agent:ops')
      await new Promise(() => {})
    }
    void runLedgerTail(fake.sources, rec.handlers, controller.signal, {backlog: 0, timing: {initialMs: 100, maxMs: 100}})
    await vi.advanceTimersByTimeAsync(10)
    // With no backlog it starts after the head (2): the repeat of 2 and the keepalive are dropped
    expect(rec.events.map((e) => e.seq)).toEqual([3])
    controller.abort()
  })
})
