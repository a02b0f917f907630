import {describe, expect, it} from 'vitest'
import {DaemonUnavailableError, OsmodaError} from '../../errors.js'
import {connect, fakeAgentd, fakeWatch, text} from '../../../../test/helpers/mcp-fakes.js'

describe('safety and host tools over MCP', () => {
  it('safety_status falls back to local facts when agentd is down', async () => {
    // Given agentd's socket is unreachable
    const fake = fakeAgentd({safetyStatus: () => Promise.reject(new DaemonUnavailableError('agentd'))})
    const mcp = await connect({clients: {agentd: fake.agentd, watch: fakeWatch()}})
    // When the agent asks for the safety status
    const result = await mcp.client.callTool({name: 'safety_status', arguments: {}})
    // Then it gets facts read on this host, marked as local, not an error
    expect(result.isError).toBeFalsy()
    expect(result.structuredContent).toMatchObject({source: 'local', agentd: 'unreachable', ledger: null, pending_approvals: null, health: {status: 'unknown'}})
    expect((result.structuredContent as {health: {memory_total: number}}).health.memory_total).toBeGreaterThan(0)
    expect(text(result)).toMatch(/^agentd UNREACHABLE, local facts/)
    expect(mcp.records[0]).toMatchObject({tool: 'safety_status', outcome: 'ok'})
    await mcp.close()
  })

  it('safety_status does not hide an error agentd answered with', async () => {
    const fake = fakeAgentd({safetyStatus: () => Promise.reject(new OsmodaError('INTERNAL', 'bug'))})
    const mcp = await connect({clients: {agentd: fake.agentd, watch: fakeWatch()}})
    const result = await mcp.client.callTool({name: 'safety_status', arguments: {}})
    expect(result.isError).toBe(true)
    expect(text(result)).toMatch(/^INTERNAL/)
    await mcp.close()
  })

  it('safety_panic passes rollback and approval_id through and reports APPROVAL_REQUIRED', async () => {
    // Given agentd's gate answers 412 for the agent
    const calls: unknown[] = []
    const fake = fakeAgentd({
      safetyPanic: (input) => {
        calls.push(input)
        return Promise.reject(new OsmodaError('APPROVAL_REQUIRED', 'safety_panic needs approval', {details: {approval_id: 'apr_01JDQZ9V7C4Y3M2N1P0Q9R8S7T', expires_at: '2026-11-25T12:10:00.000Z', operation: 'safety_panic', summary: 'PANIC'}}))
      },
    })
    const mcp = await connect({clients: {agentd: fake.agentd, watch: fakeWatch()}})
    // When the agent panics without an approval
    const result = await mcp.client.callTool({name: 'safety_panic', arguments: {reason: 'runaway'}})
    // Then the default rollback: true was sent, and the answer tells the agent to get approval
    expect(calls).toEqual([{reason: 'runaway', rollback: true}])
    expect(result.isError).toBe(true)
    expect(text(result)).toContain('apr_01JDQZ9V7C4Y3M2N1P0Q9R8S7T')
    expect(mcp.records[0]).toMatchObject({tool: 'safety_panic', outcome: 'approval_required'})
    await mcp.close()
  })

  it('rejects bad journal_logs arguments before calling agentd', async () => {
    const fake = fakeAgentd()
    const mcp = await connect({clients: {agentd: fake.agentd, watch: fakeWatch()}})
    for (const args of [{lines: 0}, {priority: 'loud'}, {since: 'yesterday'}, {unit: '-x'}, {grep: ''}, {extra: 1}]) {
      const result = await mcp.client.callTool({name: 'journal_logs', arguments: args})
      expect(result.isError, JSON.stringify(args)).toBe(true)
    }
    expect(fake.calls).toEqual([])
    await mcp.close()
  })
})
