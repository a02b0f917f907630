import type {ChatFrame} from './chat-types.js'
import type {ActiveRequest, ChatDeps} from './chat-service.js'
import type {Frame, Run, RuntimeName} from './runtime/types.js'

const PROGRESS_EVERY_MS = 1000

/** What consumeRun needs from the chat engine. */
export interface TurnContext {
  active: ActiveRequest
  run: Run
  runtime: RuntimeName
  /** Removes the run's MCP config; called once the runtime is gone, before the end is announced. */
  cleanup: () => void
  deps: Pick<ChatDeps, 'requests' | 'events' | 'liveness' | 'sessions' | 'diagnostics'>
  clock: () => number
  emit: (active: ActiveRequest, frame: ChatFrame) => void
  finish: (active: ActiveRequest, outcome: {reply: string; tools: number} | {code: string; message: string}) => void
}

/**
 * Consumes one run's frames to the end: deltas and tool bubbles to the listeners, agent messages
 * and tool calls into the history (in the order they started), progress at most once a second,
 * the runtime session id into the session store; then the request's outcome.
 */
export async function consumeRun(turn: TurnContext): Promise<void> {
  const {active, run, runtime, cleanup, deps, clock, emit, finish} = turn
  let frames = 0
  let tools = 0
  let phase: 'starting' | 'streaming' | 'tool' = 'starting'
  let tool: string | null = null
  let target: string | null = null
  let lastProgress = 0
  let reply = ''
  let failed: {code: string; message: string} | null = null
  // An agent entry is placed when its message starts, so history keeps the order the user saw
  // (text, then the tool it led to); its final text replaces the streamed one.
  const messages = new Map<string, {seq: number | null; text: string}>()
  const startMessage = (id: string, text: string) => {
    let entry = messages.get(id)
    if (!entry) {
      entry = {seq: deps.requests.addEntry({session_id: active.sessionId, request_id: active.requestId, kind: 'agent', text, tool: null, target: null, ok: null, message_id: id}), text: ''}
      messages.set(id, entry)
    }
    return entry
  }
  const progress = (force = false) => {
    const now = clock()
    if (!force && now - lastProgress < PROGRESS_EVERY_MS) return
    lastProgress = now
    const data = {phase, frames, tool, target, elapsed_ms: now - active.startedAt}
    deps.requests.update(active.requestId, {status: 'in_progress', progress: data})
    deps.events.emit({category: 'request', type: 'request.progress', agent_id: active.agentId, request_id: active.requestId, data})
  }
  for await (const frame of run.frames as AsyncIterable<Frame>) {
    frames++
    active.lastActivityAt = clock()
    // Frames that follow our own stop (the run's closing error) say nothing about liveness.
    if (!active.stopping) deps.liveness.noteFrame(active.agentId, active.requestId)
    switch (frame.type) {
      case 'text':
        phase = 'streaming'
        startMessage(frame.message_id, '').text += frame.delta
        emit(active, {type: 'text', request_id: active.requestId, message_id: frame.message_id, delta: frame.delta})
        break
      case 'message': {
        const entry = startMessage(frame.message_id, frame.text)
        entry.text = frame.text
        if (entry.seq !== null) deps.requests.setEntryText(entry.seq, frame.text)
        break
      }
      case 'tool_use':
        phase = 'tool'
        tools++
        tool = frame.tool
        target = frame.target
        deps.requests.addEntry({session_id: active.sessionId, request_id: active.requestId, kind: 'tool', text: null, tool: frame.tool, target: frame.target, ok: null})
        emit(active, {type: 'tool_use', request_id: active.requestId, tool: frame.tool, target: frame.target})
        progress(true)
        break
      case 'tool_result':
        phase = 'streaming'
        deps.requests.resolveTool(active.requestId, frame.tool, frame.ok)
        emit(active, {type: 'tool_result', request_id: active.requestId, tool: frame.tool, ok: frame.ok})
        break
      case 'session':
        deps.sessions.setRuntimeSessionId(active.sessionId, frame.runtime_session_id, runtime)
        break
      case 'garbled':
        deps.diagnostics.record({level: 'warn', kind: 'driver_garbled', agent_id: active.agentId, request_id: active.requestId, message: `${runtime} wrote a line that is not a frame`, data: {line: frame.line.slice(0, 200)}})
        break
      case 'error':
        failed = {code: frame.code, message: frame.message}
        break
      case 'done':
        reply = frame.reply
        break
      case 'thinking':
        break
    }
    progress()
  }
  // The run is over: its MCP config goes before anyone hears that it ended.
  cleanup()
  deps.sessions.touch(active.sessionId)
  // A message cut off by a failure keeps what was streamed of it.
  for (const entry of messages.values()) if (entry.seq !== null && entry.text) deps.requests.setEntryText(entry.seq, entry.text)
  if (failed) {
    deps.diagnostics.record({level: failed.code === 'STOPPED' || failed.code === 'SUPERSEDED' ? 'info' : 'warn', kind: 'run_failed', agent_id: active.agentId, request_id: active.requestId, message: `run ended with ${failed.code}`, data: {code: failed.code}})
    finish(active, failed)
  } else finish(active, {reply, tools})
}
