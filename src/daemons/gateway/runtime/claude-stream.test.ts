import {describe, expect, it} from 'vitest'
import {createClaudeStreamParser} from './claude-stream.js'
import type {Frame} from './types.js'

const assistant = (id: string, content: unknown[]) => JSON.stringify({type: 'assistant', message: {id, content}})
const feed = (lines: string[]): Frame[] => {
  const parser = createClaudeStreamParser()
  return [...lines.flatMap((l) => parser.line(l)), ...parser.end()]
}

describe('claude stream-json parser', () => {
  it('separates two text blocks of one message instead of gluing them', () => {
    const frames = feed([assistant('m1', [{type: 'text', text: 'First.'}]), assistant('m1', [{type: 'text', text: 'Second.'}])])
    expect(frames).toEqual([
      {type: 'text', message_id: 'm1', delta: 'First.'},
      {type: 'text', message_id: 'm1', delta: '\n\nSecond.'},
      {type: 'message', message_id: 'm1', text: 'First.\n\nSecond.'},
    ])
  })

  it('ignores a late repeat of a finished message and keeps messages apart', () => {
    const frames = feed([
      assistant('m1', [{type: 'text', text: 'One'}]),
      assistant('m2', [{type: 'text', text: 'Two'}]),
      assistant('m1', [{type: 'text', text: 'One'}]),
    ])
    expect(frames.filter((f) => f.type === 'message')).toEqual([
      {type: 'message', message_id: 'm1', text: 'One'},
      {type: 'message', message_id: 'm2', text: 'Two'},
    ])
    expect(frames.filter((f) => f.type === 'text')).toHaveLength(2)
  })

  it('de-duplicates tool calls and results by id and names results by their call', () => {
    const use = assistant('m1', [{type: 'tool_use', id: 't1', name: 'mcp__osmoda__file_read', input: {path: `/etc/${'x'.repeat(300)}`}}])
    const result = JSON.stringify({type: 'user', message: {content: [{type: 'tool_result', tool_use_id: 't1', is_error: true}]}})
    const frames = feed([use, use, result, result])
    expect(frames).toEqual([
      {type: 'tool_use', tool: 'file_read', target: expect.stringMatching(/^\/etc\/x+…$/)},
      {type: 'tool_result', tool: 'file_read', ok: false},
    ])
    expect((frames[0] as {target: string}).target).toHaveLength(200)
  })

  it('reports non-object JSON and non-JSON lines as garbled, ignores unknown event types', () => {
    expect(feed(['42', 'null', '{"no_type": 1}', 'oops', '{"type": "rate_limit_event"}'])).toEqual([
      {type: 'garbled', line: '42'},
      {type: 'garbled', line: 'null'},
      {type: 'garbled', line: '{"no_type": 1}'},
      {type: 'garbled', line: 'oops'},
    ])
  })

  it('joins the messages for the reply when the result carries no text', () => {
    const frames = feed([assistant('m1', [{type: 'text', text: 'A'}]), assistant('m2', [{type: 'text', text: 'B'}]), JSON.stringify({type: 'result', subtype: 'success', is_error: false})])
    expect(frames.at(-1)).toEqual({type: 'done', reply: 'A\n\nB'})
  })

  it('a non-success result subtype is an error', () => {
    const frames = feed([JSON.stringify({type: 'result', subtype: 'error_max_turns', is_error: false})])
    expect(frames).toEqual([{type: 'error', code: 'RUNTIME_ERROR', message: expect.stringContaining('error_max_turns')}])
  })
})
