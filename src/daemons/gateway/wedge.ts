// Wedge detection and recovery (SPEC §2.10): per agent, the last runtime frame and the last tool-
// plane heartbeat. An agent with an active request is wedged only when BOTH are stale (a silent
// chat with live heartbeats is busy in a tool; heartbeats stopping while frames flow is fine too).
// A wedge starts the recovery ladder: stop the wedged requests, quarantine their sessions, probe the
// runtime; 4 attempts at 0/5/10/30 min, then `exhausted` and an escalation. Pure state + an
// injectable clock: the gateway calls check() every wedgeCheckSecs; tests drive a fake clock.

export type AliveVia = 'heartbeat' | 'agent_frame' | 'restart'
export type RestartStatus = 'restarting' | 'ready' | 'failed' | 'timeout' | 'exhausted'

export interface WedgeClock {
  now(): number
  sleep(ms: number): Promise<void>
}

export const SYSTEM_CLOCK: WedgeClock = {
  now: Date.now,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()),
}

export interface WedgeConfig {
  wedgeAfterMs: number
  autoRestart: {delaysSecs: number[]; probeTimeoutSecs: number; stableSecs: number}
  /** The chat_responsive window (SPEC: 5 min). */
  responsiveWindowMs?: number
}

export type WedgeEvent =
  | {type: 'agent.wedged'; agent_id: string; request_ids: string[]; last_frame_at: string | null; last_heartbeat_at: string | null}
  | {type: 'agent.healed'; agent_id: string; alive_via: AliveVia}
  | {type: 'state.changed'; agent_id: string; agent_wedged: boolean}
  | {type: 'state.changed'; agent_id: string; chat_responsive: boolean | null}
  | {type: 'agent.restart_attempted'; agent_id: string; attempt: number; status: RestartStatus; error: string | null}
  | {type: 'agent.escalation_required'; agent_id: string; attempts: number; last_error: string | null}

export interface RecoveryHooks {
  /** Stops the request and fails it with GATEWAY_WEDGED. */
  stopRequest(agentId: string, requestId: string): Promise<void>
  /** The runtime session of the session that wedged is never resumed. */
  quarantineSession(agentId: string, sessionId: string): void
  /** The driver probe (binary --version, `osmoda mcp --check`, a credential present). */
  probe(agentId: string): Promise<{ok: boolean; error?: string}>
}

/** What GET /agents shows about an agent's liveness. */
export interface AgentLiveness {
  agent_wedged: boolean
  chat_responsive: boolean | null
  last_frame_at: string | null
  last_heartbeat_at: string | null
  active_request_ids: string[]
  auto_restart_attempts: number
  auto_restart_status: RestartStatus | null
  last_auto_restart_attempt_at: string | null
  alive_via: AliveVia | null
}

interface AgentState {
  lastFrameAt: number | null
  lastHeartbeatAt: number | null
  active: Map<string, {sessionId: string; startedAt: number}>
  lastRequestAt: number | null
  wedged: boolean
  responsive: boolean | null
  attempts: number
  ladderStartedAt: number | null
  lastAttemptAt: number | null
  status: RestartStatus | null
  lastError: string | null
  attemptRunning: boolean
  aliveVia: AliveVia | null
}

const FIVE_MINUTES = 300_000
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/** Tracks every agent's liveness and runs the recovery ladder. */
export class WedgeMonitor {
  private readonly agents = new Map<string, AgentState>()
  private readonly clock: WedgeClock
  private readonly window: number

  constructor(private readonly options: {config: WedgeConfig; emit: (event: WedgeEvent) => void; hooks: RecoveryHooks; clock?: WedgeClock}) {
    this.clock = options.clock ?? SYSTEM_CLOCK
    this.window = options.config.responsiveWindowMs ?? FIVE_MINUTES
  }

  requestStarted(agentId: string, requestId: string, sessionId: string): void {
    const agent = this.agent(agentId)
    const now = this.clock.now()
    agent.active.set(requestId, {sessionId, startedAt: now})
    agent.lastRequestAt = now
  }

  /** A request ended; a completed one proves the agent works and resets the ladder. */
  requestFinished(agentId: string, requestId: string, outcome: 'completed' | 'failed'): void {
    const agent = this.agent(agentId)
    agent.active.delete(requestId)
    agent.lastRequestAt = this.clock.now()
    if (outcome === 'completed' && agent.status !== 'exhausted') this.resetLadder(agent)
    if (agent.active.size === 0 && agent.wedged) this.setWedged(agentId, agent, false)
  }

  /**
   * A runtime frame arrived. With `requestId`, frames of a request that is no longer active (the
   * message a stopped run flushes on its way out) are not liveness and are ignored.
   */
  noteFrame(agentId: string, requestId?: string): void {
    const agent = this.agent(agentId)
    if (requestId !== undefined && !agent.active.has(requestId)) return
    agent.lastFrameAt = this.clock.now()
    this.heal(agentId, agent, 'agent_frame')
    this.updateResponsive(agentId, agent)
  }

  noteHeartbeat(agentId: string): void {
    const agent = this.agent(agentId)
    agent.lastHeartbeatAt = this.clock.now()
    this.heal(agentId, agent, 'heartbeat')
  }

  /** Chats must be refused with GATEWAY_UNREACHABLE until a manual restart succeeds. */
  isUnreachable(agentId: string): boolean {
    return this.agents.get(agentId)?.status === 'exhausted'
  }

  isWedged(agentId: string): boolean {
    return this.agents.get(agentId)?.wedged ?? false
  }

  liveness(agentId: string): AgentLiveness {
    const agent = this.agent(agentId)
    return {
      agent_wedged: agent.wedged,
      chat_responsive: this.responsive(agent),
      last_frame_at: iso(agent.lastFrameAt),
      last_heartbeat_at: iso(agent.lastHeartbeatAt),
      active_request_ids: [...agent.active.keys()],
      auto_restart_attempts: agent.attempts,
      auto_restart_status: agent.status,
      last_auto_restart_attempt_at: iso(agent.lastAttemptAt),
      alive_via: agent.aliveVia,
    }
  }

  /** One detection pass over every agent (every wedgeCheckSecs); runs due restart attempts. */
  async check(): Promise<void> {
    const now = this.clock.now()
    const {wedgeAfterMs, autoRestart} = this.options.config
    const due: Promise<void>[] = []
    for (const [agentId, agent] of this.agents) {
      this.updateResponsive(agentId, agent)
      if (!agent.wedged && agent.active.size > 0) {
        const frameAge = now - Math.max(agent.lastFrameAt ?? 0, this.oldestActiveStart(agent))
        const heartbeatAge = now - Math.max(agent.lastHeartbeatAt ?? 0, this.oldestActiveStart(agent))
        if (frameAge > wedgeAfterMs && heartbeatAge > wedgeAfterMs) this.setWedged(agentId, agent, true)
      }
      if (agent.attemptRunning || agent.status === 'exhausted') continue
      const needsAttempt = agent.wedged || agent.status === 'failed' || agent.status === 'timeout'
      if (!needsAttempt) {
        if (agent.status === 'ready' && agent.lastAttemptAt !== null && now - agent.lastAttemptAt >= autoRestart.stableSecs * 1000) this.resetLadder(agent)
        continue
      }
      if (agent.attempts >= autoRestart.delaysSecs.length) {
        this.exhaust(agentId, agent)
        continue
      }
      const offset = (autoRestart.delaysSecs[agent.attempts] ?? 0) * 1000
      if (agent.ladderStartedAt === null || now >= agent.ladderStartedAt + offset) due.push(this.attempt(agentId, agent, 'auto'))
    }
    await Promise.all(due)
  }

  /** POST /agents/{id}/restart: one attempt now, outside the ladder; success lifts `exhausted`. */
  async restart(agentId: string): Promise<RestartStatus> {
    const agent = this.agent(agentId)
    if (agent.attemptRunning) return 'restarting'
    await this.attempt(agentId, agent, 'manual')
    return agent.status as RestartStatus
  }

  private async attempt(agentId: string, agent: AgentState, kind: 'auto' | 'manual'): Promise<void> {
    const {hooks, config} = this.options
    agent.attemptRunning = true
    const now = this.clock.now()
    if (kind === 'auto') {
      agent.ladderStartedAt ??= now
      agent.attempts += 1
    }
    agent.lastAttemptAt = now
    agent.status = 'restarting'
    const attempt = kind === 'auto' ? agent.attempts : agent.attempts + 1
    try {
      for (const [requestId, request] of [...agent.active]) {
        // Inactive first: what the stopped run still emits must not count as the agent healing.
        agent.active.delete(requestId)
        hooks.quarantineSession(agentId, request.sessionId)
        await hooks.stopRequest(agentId, requestId).catch(() => {})
      }
      const timeoutMs = config.autoRestart.probeTimeoutSecs * 1000
      const outcome = await Promise.race([
        hooks.probe(agentId).catch((error: unknown) => ({ok: false, error: error instanceof Error ? error.message : String(error)})),
        this.clock.sleep(timeoutMs).then(() => 'timeout' as const),
      ])
      if (outcome === 'timeout') {
        agent.status = 'timeout'
        agent.lastError = `the probe did not finish within ${config.autoRestart.probeTimeoutSecs} s`
      } else if (outcome.ok) {
        agent.status = 'ready'
        agent.lastError = null
      } else {
        agent.status = 'failed'
        agent.lastError = outcome.error ?? 'the probe failed'
      }
    } finally {
      agent.attemptRunning = false
    }
    this.options.emit({type: 'agent.restart_attempted', agent_id: agentId, attempt, status: agent.status, error: agent.lastError})
    if (agent.status === 'ready') {
      if (kind === 'manual') this.resetLadder(agent)
      if (agent.wedged) {
        agent.aliveVia = 'restart'
        this.setWedged(agentId, agent, false)
        this.options.emit({type: 'agent.healed', agent_id: agentId, alive_via: 'restart'})
      }
    } else if (kind === 'auto' && agent.attempts >= config.autoRestart.delaysSecs.length) {
      this.exhaust(agentId, agent)
    } else if (kind === 'manual' && agent.attempts >= config.autoRestart.delaysSecs.length) {
      // A failed manual restart of an exhausted agent leaves it exhausted.
      agent.status = 'exhausted'
    }
  }

  private exhaust(agentId: string, agent: AgentState): void {
    agent.status = 'exhausted'
    this.options.emit({type: 'agent.escalation_required', agent_id: agentId, attempts: agent.attempts, last_error: agent.lastError})
  }

  private resetLadder(agent: AgentState): void {
    agent.attempts = 0
    agent.ladderStartedAt = null
    agent.lastAttemptAt = null
    // A reset keeps "never restarted" (null) apart from "restarted and fine since" (ready).
    agent.status = agent.status === null ? null : 'ready'
    agent.lastError = null
  }

  private heal(agentId: string, agent: AgentState, via: AliveVia): void {
    agent.aliveVia = via
    if (!agent.wedged) return
    this.setWedged(agentId, agent, false)
    this.options.emit({type: 'agent.healed', agent_id: agentId, alive_via: via})
  }

  private setWedged(agentId: string, agent: AgentState, wedged: boolean): void {
    if (agent.wedged === wedged) return
    agent.wedged = wedged
    if (wedged) {
      this.options.emit({type: 'agent.wedged', agent_id: agentId, request_ids: [...agent.active.keys()], last_frame_at: iso(agent.lastFrameAt), last_heartbeat_at: iso(agent.lastHeartbeatAt)})
    }
    this.options.emit({type: 'state.changed', agent_id: agentId, agent_wedged: wedged})
  }

  /**
   * true: a frame in the window; false: an active request silent for longer than the window; null:
   * nothing to judge yet (no request in the window, or one too young to call silent).
   */
  private responsive(agent: AgentState): boolean | null {
    const now = this.clock.now()
    if (agent.lastFrameAt !== null && now - agent.lastFrameAt <= this.window) return true
    if (agent.active.size > 0 && now - Math.max(agent.lastFrameAt ?? 0, this.oldestActiveStart(agent)) > this.window) return false
    return null
  }

  private updateResponsive(agentId: string, agent: AgentState): void {
    const value = this.responsive(agent)
    if (value === agent.responsive) return
    agent.responsive = value
    this.options.emit({type: 'state.changed', agent_id: agentId, chat_responsive: value})
  }

  private oldestActiveStart(agent: AgentState): number {
    let oldest = Number.POSITIVE_INFINITY
    for (const request of agent.active.values()) oldest = Math.min(oldest, request.startedAt)
    return oldest === Number.POSITIVE_INFINITY ? 0 : oldest
  }

  private agent(agentId: string): AgentState {
    let agent = this.agents.get(agentId)
    if (agent === undefined) {
      agent = {
        lastFrameAt: null, lastHeartbeatAt: null, active: new Map(), lastRequestAt: null, wedged: false, responsive: null,
        attempts: 0, ladderStartedAt: null, lastAttemptAt: null, status: null, lastError: null, attemptRunning: false, aliveVia: null,
      }
      this.agents.set(agentId, agent)
    }
    return agent
  }
}
