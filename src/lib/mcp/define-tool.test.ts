import {describe, expect, it} from 'vitest'
import {agentdApi} from '../../daemons/agentd/api.js'
import {defineTool, type McpClients, type Toolset} from './define-tool.js'

describe('defineTool', () => {
  const base = {
    name: 'probe_tool',
    title: 'Probe',
    description: 'Test.',
    toolset: 'agentd' as Toolset,
    route: agentdApi.health,
    annotations: {readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false},
    summarize: () => 'ok',
    run: (clients: McpClients) => clients.agentd.health(),
  }

  it('takes its schemas and roles from the route by default', () => {
    const tool = defineTool(base)
    expect(tool.input).toBe(agentdApi.health.input)
    expect(tool.output).toBe(agentdApi.health.output)
    expect(tool.roles).toEqual(['operator', 'agent'])
  })

  it('refuses a tool without all four hints', () => {
    const annotations = {readOnlyHint: true, destructiveHint: false, idempotentHint: true} as unknown as typeof base.annotations
    expect(() => defineTool({...base, annotations})).toThrow(/openWorldHint/)
  })

  it('refuses roles its route would refuse', () => {
    expect(() => defineTool({...base, route: agentdApi.reload, run: (c: McpClients) => c.agentd.reload(), roles: ['agent']})).toThrow(/refuses/)
  })

  it('refuses names that are not <domain>_<verb>', () => {
    expect(() => defineTool({...base, name: 'System-Health'})).toThrow(/domain/)
  })
})
