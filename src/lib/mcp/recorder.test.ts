import {describe, expect, it, vi} from 'vitest'
import {DaemonUnavailableError, UsageError} from '../errors.js'
import {createToolCallRecorder, type ToolCallRecord, type ToolCallRecorderOptions} from './recorder.js'

type Agentd = ToolCallRecorderOptions['agentd']

const HASH = 'c'.repeat(64)

function entry(n: number): ToolCallRecord {
  return {tool: 'system_health', toolset: 'agentd', args_sha256: HASH, outcome: 'ok', duration_ms: n}
}

/** A seam fake of agentd's `toolCalls` that can be switched down and up. */
function fakeAgentd(options: {delayMs?: (n: number) => number} = {}) {
  const posted: ToolCallRecord[] = []
  const state = {up: true, attempts: 0}
  const agentd: Agentd = {
    async toolCalls(record) {
      state.attempts++
      const delay = options.delayMs?.(record.duration_ms) ?? 0
      if (delay) await new Promise((r) => setTimeout(r, delay))
      if (!state.up) throw new DaemonUnavailableError('agentd', 'osmoda-agentd is not reachable at /x/agentd.sock (ECONNREFUSED)')
      posted.push(record)
      return {seq: posted.length}
    },
  }
  return {agentd, posted, state}
}

describe('tool call recorder', () => {
  it('posts each record before record() resolves', async () => {
    // Given a reachable agentd
    const fake = fakeAgentd({delayMs: () => 5})
    const recorder = createToolCallRecorder({agentd: fake.agentd, log: () => {}})
    // When two calls are recorded
    await recorder.record(entry(1))
    // Then the first is durable as soon as record() resolves
    expect(fake.posted.map((r) => r.duration_ms)).toEqual([1])
    await recorder.record(entry(2))
    expect(fake.posted.map((r) => r.duration_ms)).toEqual([1, 2])
    expect(recorder.pending()).toBe(0)
    await recorder.close()
  })

  it('keeps call order when calls finish concurrently', async () => {
    // Given posts that take different times
    const fake = fakeAgentd({delayMs: (n) => (n % 3) * 3})
    const recorder = createToolCallRecorder({agentd: fake.agentd, log: () => {}})
    // When ten calls are recorded at once
    await Promise.all(Array.from({length: 10}, (_, i) => recorder.record(entry(i))))
    // Then the ledger order is the call order
    expect(fake.posted.map((r) => r.duration_ms)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    await recorder.close()
  })

  it('buffers while agentd is down and flushes in order on the next call', async () => {
    // Given agentd is down
    const fake = fakeAgentd()
    fake.state.up = false
    const lines: string[] = []
    const recorder = createToolCallRecorder({agentd: fake.agentd, log: (l) => lines.push(l), retryMs: 60_000})
    // When three calls are recorded
    for (const n of [1, 2, 3]) await recorder.record(entry(n))
    // Then nothing throws, they wait in the buffer, and the outage is logged once
    expect(recorder.pending()).toBe(3)
    expect(fake.posted).toEqual([])
    expect(lines.filter((l) => l.includes('DAEMON_UNAVAILABLE'))).toHaveLength(1)
    // When agentd is back and the next call is recorded
    fake.state.up = true
    await recorder.record(entry(4))
    // Then everything is posted, oldest first
    expect(fake.posted.map((r) => r.duration_ms)).toEqual([1, 2, 3, 4])
    expect(recorder.pending()).toBe(0)
    expect(lines.some((l) => l.includes('agentd is back'))).toBe(true)
    await recorder.close()
  })

  it('retries on a timer without waiting for another call', async () => {
    // Given two records buffered while agentd is down
    const fake = fakeAgentd()
    fake.state.up = false
    const recorder = createToolCallRecorder({agentd: fake.agentd, log: () => {}, retryMs: 20})
    await recorder.record(entry(1))
    await recorder.record(entry(2))
    // When agentd comes back and no further call is made
    fake.state.up = true
    // Then the periodic retry flushes them
    await vi.waitFor(() => expect(fake.posted.map((r) => r.duration_ms)).toEqual([1, 2]), {timeout: 2000, interval: 10})
    await recorder.close()
  })

  it('caps the buffer at 1000, dropping the oldest and logging the count', async () => {
    // Given agentd is down
    const fake = fakeAgentd()
    fake.state.up = false
    const lines: string[] = []
    const recorder = createToolCallRecorder({agentd: fake.agentd, log: (l) => lines.push(l), retryMs: 60_000})
    // When 1005 calls are recorded
    for (let n = 1; n <= 1005; n++) await recorder.record(entry(n))
    // Then 1000 are kept and the 5 oldest are dropped, with a count on stderr
    expect(recorder.pending()).toBe(1000)
    expect(recorder.dropped()).toBe(5)
    expect(lines.some((l) => l.includes('1 oldest records dropped'))).toBe(true)
    // When agentd is back
    fake.state.up = true
    await recorder.flush()
    // Then the 1000 newest are posted in call order and the loss is reported
    expect(fake.posted).toHaveLength(1000)
    expect(fake.posted[0]?.duration_ms).toBe(6)
    expect(fake.posted.map((r) => r.duration_ms)).toEqual(Array.from({length: 1000}, (_, i) => i + 6))
    expect(lines.some((l) => l.includes('5 dropped while it was away'))).toBe(true)
    await recorder.close()
  })

  it('drops a record agentd rejects as invalid instead of retrying it forever', async () => {
    // Given agentd that refuses one record
    const posted: number[] = []
    const agentd: Agentd = {
      async toolCalls(record) {
        if (record.duration_ms === 1) throw new UsageError('invalid request: tool: Invalid string')
        posted.push(record.duration_ms)
        return {seq: posted.length}
      },
    }
    const lines: string[] = []
    const recorder = createToolCallRecorder({agentd, log: (l) => lines.push(l)})
    // When it and a good record are recorded
    await recorder.record(entry(1))
    await recorder.record(entry(2))
    // Then the good one is posted and the bad one is logged and gone
    expect(posted).toEqual([2])
    expect(recorder.pending()).toBe(0)
    expect(lines.some((l) => l.includes('rejected') && l.includes('VALIDATION_FAILED'))).toBe(true)
    await recorder.close()
  })

  it('reports records still unsent at close', async () => {
    const fake = fakeAgentd()
    fake.state.up = false
    const lines: string[] = []
    const recorder = createToolCallRecorder({agentd: fake.agentd, log: (l) => lines.push(l)})
    await recorder.record(entry(1))
    await recorder.close()
    expect(lines.some((l) => l.includes('exiting with 1 tool.called records'))).toBe(true)
  })
})
