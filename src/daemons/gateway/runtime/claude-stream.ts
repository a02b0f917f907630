// Claude Code's `--output-format stream-json --verbose` lines → frames. Without partial messages,
// claude prints one `assistant` event per content block, all carrying the same message.id, and may
// deliver the same block again; text is therefore tracked per message id (blocks kept in order,
// repeats dropped, a growing block yields only its new suffix), so two messages of one turn never
// glue together and a repeat never truncates or doubles a message.
import type {StreamParser} from './supervised-run.js'
import type {Frame} from './types.js'
import {shortenTarget, toolTarget} from './tool-target.js'

/** Tools reached through the osmoda MCP server are shown by their osmoda name. */
const MCP_PREFIX = 'mcp__osmoda__'
const GARBLED_LINE_CHARS = 500

interface MessageState {
  id: string
  blocks: string[]
  thinking: Set<string>
  finalized: boolean
}

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

/** A parser for one claude-code turn. */
export function createClaudeStreamParser(): StreamParser {
  const messages = new Map<string, MessageState>()
  const order: MessageState[] = []
  const toolNames = new Map<string, string>()
  const resultsSeen = new Set<string>()
  let sessionId: string | null = null
  let current: MessageState | null = null

  const finalize = (): Frame[] => {
    const frames: Frame[] = []
    for (const message of order) {
      if (message.finalized) continue
      message.finalized = true
      const text = message.blocks.join('\n\n')
      if (text !== '') frames.push({type: 'message', message_id: message.id, text})
    }
    current = null
    return frames
  }

  const session = (event: Json): Frame[] => {
    const id = event.session_id
    if (typeof id !== 'string' || id === '' || id === sessionId) return []
    sessionId = id
    return [{type: 'session', runtime_session_id: id}]
  }

  const assistant = (event: Json): Frame[] => {
    const message = isObject(event.message) ? event.message : null
    if (message === null) return []
    const id = typeof message.id === 'string' && message.id !== '' ? message.id : `msg_${order.length + 1}`
    const frames: Frame[] = []
    let state = messages.get(id)
    if (state === undefined) {
      // A new message id closes the previous message.
      if (current !== null) frames.push(...finalize())
      state = {id, blocks: [], thinking: new Set(), finalized: false}
      messages.set(id, state)
      order.push(state)
      current = state
    }
    const content = Array.isArray(message.content) ? message.content : []
    for (const block of content) {
      if (!isObject(block)) continue
      if (block.type === 'text' && typeof block.text === 'string') frames.push(...textBlock(state, block.text))
      else if (block.type === 'thinking' || block.type === 'redacted_thinking') {
        const key = typeof block.thinking === 'string' ? block.thinking : String(block.signature ?? block.data ?? '')
        if (!state.finalized && !state.thinking.has(key)) {
          state.thinking.add(key)
          frames.push({type: 'thinking'})
        }
      } else if (block.type === 'tool_use') frames.push(...toolUse(block))
    }
    return frames
  }

  const toolUse = (block: Json): Frame[] => {
    const id = typeof block.id === 'string' ? block.id : null
    if (id !== null && toolNames.has(id)) return []
    const tool = displayTool(typeof block.name === 'string' ? block.name : 'unknown')
    if (id !== null) toolNames.set(id, tool)
    return [{type: 'tool_use', tool, target: shortenTarget(toolTarget(block.input))}]
  }

  const user = (event: Json): Frame[] => {
    const message = isObject(event.message) ? event.message : null
    const content = message !== null && Array.isArray(message.content) ? message.content : []
    const frames: Frame[] = []
    for (const block of content) {
      if (!isObject(block) || block.type !== 'tool_result') continue
      const id = typeof block.tool_use_id === 'string' ? block.tool_use_id : null
      if (id !== null && resultsSeen.has(id)) continue
      if (id !== null) resultsSeen.add(id)
      if (frames.length === 0) frames.push(...finalize())
      frames.push({type: 'tool_result', tool: (id !== null ? toolNames.get(id) : undefined) ?? 'unknown', ok: block.is_error !== true})
    }
    return frames
  }

  const result = (event: Json): Frame[] => {
    const frames: Frame[] = [...session(event), ...finalize()]
    if (event.is_error === true || (typeof event.subtype === 'string' && event.subtype !== 'success')) {
      const detail = typeof event.result === 'string' && event.result !== '' ? event.result : String(event.subtype ?? 'error')
      frames.push({type: 'error', code: 'RUNTIME_ERROR', message: `claude reported an error: ${detail.slice(0, 1000)}`})
      return frames
    }
    const texts = order.map((m) => m.blocks.join('\n\n')).filter((t) => t !== '')
    const reply = typeof event.result === 'string' && event.result !== '' ? event.result : texts.join('\n\n')
    frames.push({type: 'done', reply})
    return frames
  }

  return {
    line(text: string): Frame[] {
      let event: unknown
      try {
        event = JSON.parse(text)
      } catch {
        return [{type: 'garbled', line: text.slice(0, GARBLED_LINE_CHARS)}]
      }
      if (!isObject(event) || typeof event.type !== 'string') return [{type: 'garbled', line: text.slice(0, GARBLED_LINE_CHARS)}]
      switch (event.type) {
        case 'system':
          return event.subtype === 'init' ? session(event) : []
        case 'assistant':
          return [...session(event), ...assistant(event)]
        case 'user':
          return user(event)
        case 'result':
          return result(event)
        default:
          // rate-limit notices, stream events and future event types carry nothing to show.
          return []
      }
    },
    end: finalize,
  }
}

/** One text block of a message: a repeat yields nothing, a grown block its suffix, a new block itself. */
function textBlock(state: MessageState, text: string): Frame[] {
  if (state.finalized || text === '' || state.blocks.includes(text)) return []
  const last = state.blocks.at(-1)
  let delta: string
  if (last !== undefined && text.startsWith(last)) {
    delta = text.slice(last.length)
    state.blocks[state.blocks.length - 1] = text
  } else {
    delta = state.blocks.length > 0 ? `\n\n${text}` : text
    state.blocks.push(text)
  }
  return [{type: 'text', message_id: state.id, delta}]
}

function displayTool(name: string): string {
  return name.startsWith(MCP_PREFIX) ? name.slice(MCP_PREFIX.length) : name
}
