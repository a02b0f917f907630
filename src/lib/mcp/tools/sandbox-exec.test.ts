import {describe, expect, it} from 'vitest'
import {connect, fakeAgentd, fakeWatch, SANDBOX_RESULT, text} from '../../../../test/helpers/mcp-fakes.js'

describe('sandbox_exec tool', () => {
  it('waits for the sandbox deadline plus 5 s, also when the agent gives no timeout', async () => {
    // Given an agentd client that records the options of each call
    const seen: {input: unknown; timeoutMs: number | undefined}[] = []
    const {agentd} = fakeAgentd({
      sandboxExec: (input, options) => {
        seen.push({input, timeoutMs: options?.timeoutMs})
        return Promise.resolve(SANDBOX_RESULT)
      },
    })
    const mcp = await connect({clients: {agentd, watch: fakeWatch()}})
    // When the agent calls the tool without and with timeout_secs
    const first = await mcp.client.callTool({name: 'sandbox_exec', arguments: {argv: ['echo', 'hello']}})
    await mcp.client.callTool({name: 'sandbox_exec', arguments: {command: 'sleep 500', timeout_secs: 600}})
    // Then the client deadline follows the sandbox's (default 60 s), so a long run is not cut at 30 s
    expect(seen.map((s) => s.timeoutMs)).toEqual([65_000, 605_000])
    expect(first.isError).toBeFalsy()
    expect(text(first)).toBe('tier 2 exit 0 in 31 ms; last line: hello')
    await mcp.close()
  })

  it('refuses bad arguments before calling agentd', async () => {
    const mcp = await connect()
    const both = await mcp.client.callTool({name: 'sandbox_exec', arguments: {argv: ['true'], command: 'true'}})
    const tier1 = await mcp.client.callTool({name: 'sandbox_exec', arguments: {argv: ['true'], tier: 1}})
    expect([both.isError, tier1.isError]).toEqual([true, true])
    expect(mcp.calls.filter((c) => c.route === 'sandboxExec')).toEqual([])
    await mcp.close()
  })
})
