// `openclaw agent --json` output → frames. OpenClaw documents `--json` as "JSON output" without a
// schema; this parser accepts the two shapes such a CLI produces: newline-delimited event objects
// (`{type: text|delta|message|tool_use|tool_call|tool|tool_result|thinking|error|done|result|final}`)
// and one final (possibly pretty-printed) result object (`{payloads: [{text}]}`, `{reply}`,
// `{text}` or `{result}`). Multi-line JSON is reassembled before it is judged garbled.
import type {StreamParser} from './supervised-run.js'
import type {Frame} from './types.js'
import {shortenTarget, toolTarget} from './tool-target.js'

type Json = Record<string, unknown>
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null)
const MAX_PENDING_CHARS = 1024 * 1024

/** A parser for one openclaw turn. */
export function createOpenclawStreamParser(knownSessionId: string | null = null): StreamParser {
  const texts = new Map<string, string>()
  const finalized = new Set<string>()
  let lastMessageId: string | null = null
  let sessionId: string | null = knownSessionId
  let pending: string[] = []
  let counter = 0

  const finalize = (): Frame[] => {
    const frames: Frame[] = []
    for (const [id, text] of texts) {
      if (finalized.has(id) || text === '') continue
      finalized.add(id)
      frames.push({type: 'message', message_id: id, text})
    }
    return frames
  }

  const appendText = (id: string, delta: string): Frame[] => {
    const frames: Frame[] = id !== lastMessageId ? finalize() : []
    lastMessageId = id
    if (finalized.has(id) || delta === '') return frames
    texts.set(id, (texts.get(id) ?? '') + delta)
    return [...frames, {type: 'text', message_id: id, delta}]
  }

  const fullMessage = (id: string, text: string): Frame[] => {
    const sofar = texts.get(id) ?? ''
    if (finalized.has(id)) return []
    // A full message after deltas of the same id only adds what the deltas missed.
    const frames = text.startsWith(sofar) ? appendText(id, text.slice(sofar.length)) : appendText(id, sofar === '' ? text : `\n\n${text}`)
    return [...frames, ...finalize()]
  }

  const session = (event: Json): Frame[] => {
    const meta = isObject(event.meta) ? event.meta : {}
    const id = str(event.session_id) ?? str(event.sessionId) ?? str(meta.sessionId) ?? str(meta.session_id)
    if (id === null || id === '' || id === sessionId) return []
    sessionId = id
    return [{type: 'session', runtime_session_id: id}]
  }

  const finalResult = (event: Json): Frame[] => {
    const frames: Frame[] = []
    const payloads = Array.isArray(event.payloads) ? event.payloads.filter(isObject) : []
    for (const payload of payloads) {
      const text = str(payload.text)
      if (text) frames.push(...fullMessage(`msg_final_${++counter}`, text))
    }
    const reply = str(event.reply) ?? str(event.text) ?? str(event.result) ?? payloads.map((p) => str(p.text) ?? '').filter(Boolean).join('\n\n')
    if (payloads.length === 0 && reply !== '' && texts.size === 0) frames.push(...fullMessage('msg_final', reply))
    frames.push(...finalize())
    if (event.ok === false || isObject(event.error) || typeof event.error === 'string') {
      const error = isObject(event.error) ? str(event.error.message) : str(event.error)
      frames.push({type: 'error', code: 'RUNTIME_ERROR', message: `openclaw reported an error: ${(error ?? 'unknown error').slice(0, 1000)}`})
      return frames
    }
    frames.push({type: 'done', reply: reply !== '' ? reply : [...texts.values()].filter(Boolean).join('\n\n')})
    return frames
  }

  const event = (e: Json): Frame[] => {
    const frames = session(e)
    const type = str(e.type)
    const messageId = str(e.message_id) ?? str(e.messageId) ?? str(e.id) ?? lastMessageId ?? 'msg_1'
    switch (type) {
      case 'text':
      case 'delta':
      case 'assistant_delta':
        return [...frames, ...appendText(messageId, str(e.delta) ?? str(e.text) ?? '')]
      case 'message':
      case 'assistant':
        return [...frames, ...fullMessage(messageId, str(e.text) ?? str(e.content) ?? '')]
      case 'tool_use':
      case 'tool_call':
      case 'tool': {
        const tool = str(e.tool) ?? str(e.name) ?? 'unknown'
        return [...frames, ...finalize(), {type: 'tool_use', tool: tool.replace(/^(mcp__)?osmoda(__|\.|_)/, ''), target: shortenTarget(toolTarget(e.input ?? e.args ?? e.arguments))}]
      }
      case 'tool_result': {
        const tool = str(e.tool) ?? str(e.name) ?? 'unknown'
        const ok = typeof e.ok === 'boolean' ? e.ok : e.is_error !== true && !e.error
        return [...frames, {type: 'tool_result', tool: tool.replace(/^(mcp__)?osmoda(__|\.|_)/, ''), ok}]
      }
      case 'thinking':
      case 'reasoning':
        return [...frames, {type: 'thinking'}]
      case 'error':
        return [...frames, ...finalize(), {type: 'error', code: 'RUNTIME_ERROR', message: `openclaw reported an error: ${(str(e.message) ?? str(e.error) ?? 'unknown error').slice(0, 1000)}`}]
      case 'done':
      case 'result':
      case 'final':
      case null:
        return [...frames, ...finalResult(e)]
      default:
        return frames
    }
  }

  return {
    line(text: string): Frame[] {
      const candidate = pending.length > 0 ? `${pending.join('\n')}\n${text}` : text
      let parsed: unknown
      try {
        parsed = JSON.parse(candidate)
      } catch {
        // The start of a pretty-printed object, or its continuation: keep collecting.
        if ((pending.length > 0 || /^\s*[{[]\s*$/.test(text) || /^\s*\{\s*"/.test(text)) && candidate.length < MAX_PENDING_CHARS) {
          if (pending.length === 0 && /^\s*\{.*\}\s*$/.test(text)) return [{type: 'garbled', line: text.slice(0, 500)}]
          pending.push(text)
          return []
        }
        const garbled = pending.length > 0 ? candidate : text
        pending = []
        return [{type: 'garbled', line: garbled.slice(0, 500)}]
      }
      pending = []
      if (!isObject(parsed)) return [{type: 'garbled', line: candidate.slice(0, 500)}]
      return event(parsed)
    },
    end(): Frame[] {
      const frames: Frame[] = pending.length > 0 ? [{type: 'garbled', line: pending.join('\n').slice(0, 500)}] : []
      pending = []
      return [...frames, ...finalize()]
    },
  }
}
