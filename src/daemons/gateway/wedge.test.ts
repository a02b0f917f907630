import {describe, expect, it} from 'vitest'
import {WedgeMonitor, type WedgeClock, type WedgeConfig, type WedgeEvent} from './wedge.js'

const MIN = 60_000
const CONFIG: WedgeConfig = {wedgeAfterMs: 5 * MIN, autoRestart: {delaysSecs: [0, 300, 600, 1800], probeTimeoutSecs: 60, stableSecs: 600}}

/** A clock the test moves by hand; sleepers wake when it passes their time. */
function fakeClock(start = Date.parse('2026-11-26T00:00:00.000Z')) {
  let now = start
  let sleepers: {at: number; wake: () => void}[] = []
  const clock: WedgeClock & {advance(ms: number): Promise<void>} = {
    now: () => now,
    sleep: (ms) => new Promise<void>((wake) => sleepers.push({at: now + ms, wake})),
    async advance(ms) {
      now += ms
      const due = sleepers.filter((s) => s.at <= now)
      sleepers = sleepers.filter((s) => s.at > now)
      for (const s of due) s.wake()
      await new Promise((r) => setImmediate(r))
    },
  }
  return clock
}

function setup(probe: (agentId: string) => Promise<{ok: boolean; error?: string}> = async () => ({ok: false, error: 'claude: not found'})) {
  const clock = fakeClock()
  const events: WedgeEvent[] = []
  const stopped: string[] = []
  const quarantined: string[] = []
  const probes: number[] = []
  const monitor = new WedgeMonitor({
    config: CONFIG,
    clock,
    emit: (e) => events.push(e),
    hooks: {
      stopRequest: async (_agent, requestId) => void stopped.push(requestId),
      quarantineSession: (_agent, sessionId) => void quarantined.push(sessionId),
      probe: (agentId) => {
        probes.push(clock.now())
        return probe(agentId)
      },
    },
  })
  const attempts = () => events.filter((e) => e.type === 'agent.restart_attempted')
  return {clock, events, stopped, quarantined, probes, monitor, attempts}
}

describe('WedgeMonitor', () => {
  it('is not wedged while heartbeats continue and the runtime is silent; chat_responsive turns false', async () => {
    // Given an active request whose runtime is silent while the tool plane heartbeats every 30 s
    const {clock, monitor, events} = setup()
    monitor.requestStarted('osmoda', 'req_1', 'ses_1')
    monitor.noteFrame('osmoda')
    for (let t = 0; t < 20 * 2; t++) {
      await clock.advance(30_000)
      monitor.noteHeartbeat('osmoda')
      await monitor.check()
    }
    // Then after 20 minutes it is still not wedged, but the chat is flagged unresponsive
    expect(monitor.isWedged('osmoda')).toBe(false)
    expect(events.some((e) => e.type === 'agent.wedged')).toBe(false)
    expect(monitor.liveness('osmoda')).toMatchObject({agent_wedged: false, chat_responsive: false, active_request_ids: ['req_1'], alive_via: 'heartbeat'})
  })

  it('is not wedged while frames flow without heartbeats', async () => {
    const {clock, monitor} = setup()
    monitor.requestStarted('osmoda', 'req_1', 'ses_1')
    for (let t = 0; t < 20; t++) {
      await clock.advance(MIN)
      monitor.noteFrame('osmoda')
      await monitor.check()
    }
    expect(monitor.liveness('osmoda')).toMatchObject({agent_wedged: false, chat_responsive: true})
  })

  it('flags a wedge when both signals are stale, restarts at 0/5/10/30 min, then escalates', async () => {
    // Given an active request with no frame and no heartbeat (the probe keeps failing)
    const {clock, monitor, events, stopped, quarantined, probes, attempts} = setup()
    const t0 = clock.now()
    monitor.requestStarted('osmoda', 'req_1', 'ses_1')
    // When 5 minutes pass: not yet (strictly older than wedgeAfterMs)
    await clock.advance(5 * MIN)
    await monitor.check()
    expect(monitor.isWedged('osmoda')).toBe(false)
    // When the next check runs past the threshold
    await clock.advance(15_000)
    await monitor.check()
    // Then the agent is wedged, the request stopped, its session quarantined, attempt 1 ran at once
    expect(events.filter((e) => !('chat_responsive' in e)).slice(0, 2)).toEqual([
      {type: 'agent.wedged', agent_id: 'osmoda', request_ids: ['req_1'], last_frame_at: null, last_heartbeat_at: null},
      {type: 'state.changed', agent_id: 'osmoda', agent_wedged: true},
    ])
    expect(stopped).toEqual(['req_1'])
    expect(quarantined).toEqual(['ses_1'])
    expect(attempts()).toEqual([{type: 'agent.restart_attempted', agent_id: 'osmoda', attempt: 1, status: 'failed', error: 'claude: not found'}])
    const wedgedAt = clock.now()
    // And later attempts follow the ladder, checked every 15 s
    for (let elapsed = 0; elapsed < 31 * MIN; elapsed += 15_000) {
      await clock.advance(15_000)
      await monitor.check()
    }
    expect(probes.map((t) => Math.round((t - wedgedAt) / 15_000) * 15)).toEqual([0, 300, 600, 1800])
    expect(attempts().map((e) => (e as {attempt: number}).attempt)).toEqual([1, 2, 3, 4])
    // Then after the 4th failure: exhausted, one escalation, chats refused, no more attempts
    expect(events.filter((e) => e.type === 'agent.escalation_required')).toEqual([{type: 'agent.escalation_required', agent_id: 'osmoda', attempts: 4, last_error: 'claude: not found'}])
    expect(monitor.isUnreachable('osmoda')).toBe(true)
    expect(monitor.liveness('osmoda')).toMatchObject({auto_restart_status: 'exhausted', auto_restart_attempts: 4})
    await clock.advance(60 * MIN)
    await monitor.check()
    expect(attempts()).toHaveLength(4)
    expect(t0).toBeLessThan(wedgedAt)
  })

  it('a manual restart that succeeds lifts the exhaustion', async () => {
    let healthy = false
    const {clock, monitor} = setup(async () => (healthy ? {ok: true} : {ok: false, error: 'down'}))
    monitor.requestStarted('osmoda', 'req_1', 'ses_1')
    for (let elapsed = 0; elapsed < 40 * MIN; elapsed += 15_000) {
      await clock.advance(15_000)
      await monitor.check()
    }
    expect(monitor.isUnreachable('osmoda')).toBe(true)
    expect(await monitor.restart('osmoda')).toBe('exhausted')
    healthy = true
    expect(await monitor.restart('osmoda')).toBe('ready')
    expect(monitor.isUnreachable('osmoda')).toBe(false)
    expect(monitor.liveness('osmoda')).toMatchObject({agent_wedged: false, auto_restart_attempts: 0, auto_restart_status: 'ready', alive_via: 'restart'})
  })

  it('heals on a fresh signal and names it', async () => {
    const {clock, monitor, events} = setup(() => new Promise(() => {}))
    monitor.requestStarted('osmoda', 'req_1', 'ses_1')
    await clock.advance(6 * MIN)
    // The probe never answers: the attempt stays in flight while the heartbeat arrives.
    void monitor.check()
    await new Promise((r) => setImmediate(r))
    expect(monitor.isWedged('osmoda')).toBe(true)
    // When a heartbeat arrives
    monitor.noteHeartbeat('osmoda')
    // Then healed via heartbeat at once, without waiting for a check
    expect(events).toContainEqual({type: 'agent.healed', agent_id: 'osmoda', alive_via: 'heartbeat'})
    expect(events).toContainEqual({type: 'state.changed', agent_id: 'osmoda', agent_wedged: false})
    expect(monitor.isWedged('osmoda')).toBe(false)
  })

  it('frames a stopped request still flushes do not heal the agent', async () => {
    // Given a wedge whose stop makes the run flush its pending message
    let monitorRef: WedgeMonitor | null = null
    const clock = fakeClock()
    const events: WedgeEvent[] = []
    const monitor = new WedgeMonitor({
      config: CONFIG,
      clock,
      emit: (e) => events.push(e),
      hooks: {
        stopRequest: async (agentId, requestId) => monitorRef?.noteFrame(agentId, requestId),
        quarantineSession: () => {},
        probe: async () => ({ok: false, error: 'down'}),
      },
    })
    monitorRef = monitor
    monitor.requestStarted('osmoda', 'req_1', 'ses_1')
    await clock.advance(6 * MIN)
    await monitor.check()
    // Then the agent stays wedged
    expect(monitor.isWedged('osmoda')).toBe(true)
    expect(events.some((e) => e.type === 'agent.healed')).toBe(false)
  })

  it('a probe that does not answer within probeTimeoutSecs is a timeout', async () => {
    const {clock, monitor, attempts} = setup(() => new Promise(() => {}))
    monitor.requestStarted('osmoda', 'req_1', 'ses_1')
    await clock.advance(6 * MIN)
    const pass = monitor.check()
    await new Promise((r) => setImmediate(r))
    await clock.advance(59_000)
    expect(monitor.liveness('osmoda').auto_restart_status).toBe('restarting')
    await clock.advance(1000)
    await pass
    expect(attempts()).toEqual([expect.objectContaining({attempt: 1, status: 'timeout'})])
  })

  it('a ready restart heals; a completed request, or stableSecs without a wedge, resets the counters', async () => {
    // Given a wedge whose first restart succeeds
    const {clock, monitor, events} = setup(async () => ({ok: true}))
    monitor.requestStarted('osmoda', 'req_1', 'ses_1')
    await clock.advance(6 * MIN)
    await monitor.check()
    expect(events).toContainEqual({type: 'agent.healed', agent_id: 'osmoda', alive_via: 'restart'})
    expect(monitor.liveness('osmoda')).toMatchObject({agent_wedged: false, auto_restart_attempts: 1, auto_restart_status: 'ready'})
    // When the next request completes, the counters reset
    monitor.requestStarted('osmoda', 'req_2', 'ses_1')
    monitor.noteFrame('osmoda')
    monitor.requestFinished('osmoda', 'req_2', 'completed')
    expect(monitor.liveness('osmoda')).toMatchObject({auto_restart_attempts: 0, last_auto_restart_attempt_at: null})
    // Given another wedge and ready restart
    monitor.requestStarted('osmoda', 'req_3', 'ses_1')
    await clock.advance(6 * MIN)
    await monitor.check()
    expect(monitor.liveness('osmoda').auto_restart_attempts).toBe(1)
    // When stableSecs pass without a new wedge, the counters reset too
    await clock.advance(9 * MIN)
    await monitor.check()
    expect(monitor.liveness('osmoda').auto_restart_attempts).toBe(1)
    await clock.advance(MIN)
    await monitor.check()
    expect(monitor.liveness('osmoda').auto_restart_attempts).toBe(0)
  })

  it('a wedge again after a ready restart continues the ladder instead of starting over', async () => {
    const {clock, monitor, attempts} = setup(async () => ({ok: true}))
    monitor.requestStarted('osmoda', 'req_1', 'ses_1')
    await clock.advance(6 * MIN)
    await monitor.check()
    monitor.requestStarted('osmoda', 'req_2', 'ses_1')
    for (let elapsed = 0; elapsed < 6 * MIN; elapsed += 15_000) {
      await clock.advance(15_000)
      await monitor.check()
    }
    expect(attempts().map((e) => (e as {attempt: number}).attempt)).toEqual([1, 2])
  })

  it('chat_responsive is null with no recent request', async () => {
    const {clock, monitor, events} = setup()
    expect(monitor.liveness('osmoda').chat_responsive).toBeNull()
    monitor.requestStarted('osmoda', 'req_1', 'ses_1')
    monitor.noteFrame('osmoda')
    expect(monitor.liveness('osmoda').chat_responsive).toBe(true)
    monitor.requestFinished('osmoda', 'req_1', 'completed')
    await clock.advance(6 * MIN)
    await monitor.check()
    expect(monitor.liveness('osmoda').chat_responsive).toBeNull()
    expect(events.filter((e) => 'chat_responsive' in e).map((e) => (e as {chat_responsive: unknown}).chat_responsive)).toEqual([true, null])
  })
})
