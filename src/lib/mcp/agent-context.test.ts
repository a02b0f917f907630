import {describe, expect, it} from 'vitest'
import {resolveAgentContext, roleOfToken} from './agent-context.js'

describe('agent context of osmoda mcp', () => {
  it('serves the agent role unless handed an operator token', () => {
    expect(roleOfToken('osm_ag_abc')).toBe('agent')
    expect(roleOfToken('osm_op_abc')).toBe('operator')
    expect(roleOfToken(undefined)).toBe('agent')
  })

  it('sends the agent id and correlation ids as headers', () => {
    const context = resolveAgentContext({OSMODA_AGENT_ID: 'ops', OSMODA_SESSION_ID: 'ses_1', OSMODA_REQUEST_ID: 'req-9'})
    expect(context).toEqual({
      headers: {'x-osmoda-agent-id': 'ops', 'x-osmoda-session-id': 'ses_1', 'x-osmoda-request-id': 'req-9'},
      sessionId: 'ses_1',
      requestId: 'req-9',
      warnings: [],
    })
  })

  it('skips values the daemons would reject, with a warning, instead of failing every call', () => {
    const context = resolveAgentContext({OSMODA_AGENT_ID: 'Ops Bot', OSMODA_SESSION_ID: 'x'.repeat(65), OSMODA_REQUEST_ID: ''})
    expect(context.headers).toEqual({})
    expect(context.sessionId).toBeNull()
    expect(context.requestId).toBeNull()
    expect(context.warnings).toEqual([expect.stringContaining('OSMODA_AGENT_ID'), expect.stringContaining('OSMODA_SESSION_ID')])
  })
})
