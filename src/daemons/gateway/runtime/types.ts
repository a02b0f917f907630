/**
 * The contract between the gateway and its agent runtimes (SPEC §2.10 "Drivers", "Runs").
 * A driver turns one chat request into a child process and normalises its output into Frames.
 *
 * How the gateway consumes a run: iterate `frames` to the end (it never throws). `text` → WS/SSE
 * deltas; `message` → one chat-history entry per message id; `tool_use`/`tool_result` → tool
 * entries and progress; `session` → SessionStore.setRuntimeSessionId; `garbled` → a diagnostics
 * line; `done` → request completed; `error` → request failed with `code` (FIRST_SIGNAL_TIMEOUT,
 * CHAT_WATCHDOG, HARD_CAP, STOPPED, SUPERSEDED, GATEWAY_WEDGED, RUNTIME_NOT_FOUND, NO_CREDENTIAL,
 * RUNTIME_ERROR). When the iteration ends, the runtime's whole process group is gone. Feed each
 * frame to WedgeMonitor.noteFrame(agentId, requestId) and each heartbeat to both
 * Run.noteHeartbeat and WedgeMonitor.noteHeartbeat.
 */

export type RuntimeName = 'claude-code' | 'openclaw'

/** Why a run was stopped; caps map to the typed error codes in RUN_STOP_CODES. */
export type StopReason = 'user' | 'watchdog' | 'first_signal' | 'hard_cap' | 'supersede' | 'shutdown' | 'wedge'

export type Frame =
  | {type: 'text'; message_id: string; delta: string}
  /** The final text of one assistant message (one per message id; what chat history stores). */
  | {type: 'message'; message_id: string; text: string}
  | {type: 'tool_use'; tool: string; target: string | null}
  | {type: 'tool_result'; tool: string; ok: boolean}
  | {type: 'thinking'}
  | {type: 'session'; runtime_session_id: string}
  | {type: 'error'; code: string; message: string}
  /** A stream line that did not parse: skipped, reported. */
  | {type: 'garbled'; line: string}
  | {type: 'done'; reply: string}

export interface RunCredential {
  provider: 'anthropic' | 'openai'
  type: 'oauth' | 'api_key'
  secret: string
  base_url?: string | null
}

export interface RunOptions {
  requestId: string
  agentId: string
  text: string
  model: string
  systemPrompt: string
  workspaceDir: string
  /** Working directory; defaults to workspaceDir. */
  cwd?: string
  runtimeSessionId?: string | null
  credential: RunCredential | null
  mcpConfigPath: string
  /** Unix user to run as (privilege drop through setpriv when we are root). */
  runAs?: string | null
  /** Explicit env additions (after the minimal env and the credential). */
  env?: Record<string, string>
  /** cgroup limits (agent `memory_max`, `runtimes.runMemoryMax`/`runTasksMax`): a `systemd-run --scope` where systemd is PID 1. */
  memoryMax?: string | null
  tasksMax?: number | null
}

export interface RunLimits {
  /** After the first signal: no activity (a frame, or a heartbeat with in-flight tools) for this long → CHAT_WATCHDOG. */
  chatWatchdogMs: number
  /** No frame and no heartbeat at all within this long after start → FIRST_SIGNAL_TIMEOUT. */
  firstSignalTimeoutMs: number
  /** Wall clock over this → HARD_CAP. */
  chatHardCapMs: number
}

/**
 * One running turn. `frames` ends after `done` (success) or after an `error` frame (failure: caps,
 * crash, stop, missing binary). It never throws.
 */
export interface Run {
  readonly frames: AsyncIterable<Frame>
  /** SIGTERM to the process group, SIGKILL after 2 s; resolves when the child has exited. */
  stop(reason: StopReason): Promise<void>
  readonly pid: number | null
  /** A heartbeat arrived for this run; with inFlightTools > 0 it counts as activity for the watchdog. */
  noteHeartbeat(inFlightTools: number): void
}

export interface ProbeResult {
  available: boolean
  version: string | null
  error?: string
}

export interface RuntimeDriver {
  name: RuntimeName
  display_name: string
  description: string
  supported_providers: string[]
  supported_auth_types: string[]
  default_models: string[]
  probe(): Promise<ProbeResult>
  startRun(opts: RunOptions, limits: RunLimits): Run
}

/** The error frame code each stop reason ends a run with. */
export const RUN_STOP_CODES: Record<StopReason, string> = {
  user: 'STOPPED',
  watchdog: 'CHAT_WATCHDOG',
  first_signal: 'FIRST_SIGNAL_TIMEOUT',
  hard_cap: 'HARD_CAP',
  supersede: 'SUPERSEDED',
  shutdown: 'STOPPED',
  wedge: 'GATEWAY_WEDGED',
}
