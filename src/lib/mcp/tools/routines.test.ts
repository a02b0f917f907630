import {describe, expect, it} from 'vitest'
import type {RoutinesApi} from '../../../daemons/routines/api.js'
import {OsmodaError} from '../../errors.js'
import type {RpcClient} from '../../rpc/client.js'
import {connect, fakeAgentd, fakeWatch, text} from '../../../../test/helpers/mcp-fakes.js'
import {ROUTINE_TRIGGER_CLIENT_TIMEOUT_MS} from './routines.js'

const ROUTINE = {id: 'default-health', name: 'Health check', trigger: {type: 'interval', seconds: 300}, action: {type: 'health_check'}, enabled: true, created_at: '2026-11-26T00:00:00.000Z', updated_at: '2026-11-26T00:00:00.000Z', last_run_at: null, last_status: null, run_count: 0, next_run_at: '2026-11-26T00:05:00.000Z'}

function fakeRoutines(overrides: Partial<Record<keyof RoutinesApi, (...args: unknown[]) => Promise<unknown>>> = {}) {
  const calls: {method: string; args: unknown[]}[] = []
  const answer = (method: string, value: unknown) => async (...args: unknown[]) => {
    calls.push({method, args})
    return value
  }
  const client = {
    routineList: answer('routineList', {routines: [ROUTINE]}),
    routineAdd: answer('routineAdd', {...ROUTINE, id: 'rtn_01JAAAAAAAAAAAAAAAAAAAAAAA', name: 'disk'}),
    routineTrigger: answer('routineTrigger', {run_id: 'run_01JAAAAAAAAAAAAAAAAAAAAAAA', status: 'ok', output: '{}', error: null}),
    close: () => {},
    ...overrides,
  } as unknown as RpcClient<RoutinesApi>
  return {client, calls}
}

describe('routines tools over MCP', () => {
  it('routine_list and routine_trigger call the routines daemon; trigger with wait gets the long deadline', async () => {
    const routines = fakeRoutines()
    const mcp = await connect({clients: {agentd: fakeAgentd().agentd, watch: fakeWatch(), routines: routines.client}})
    const list = await mcp.client.callTool({name: 'routine_list', arguments: {}})
    expect(list.structuredContent).toEqual({routines: [ROUTINE]})
    expect(text(list)).toBe('1 routines: default-health not run')
    const run = await mcp.client.callTool({name: 'routine_trigger', arguments: {id: 'default-health'}})
    expect(text(run)).toBe('run_01JAAAAAAAAAAAAAAAAAAAAAAA: ok')
    expect(routines.calls.at(-1)).toEqual({method: 'routineTrigger', args: [{id: 'default-health', wait: true}, {timeoutMs: ROUTINE_TRIGGER_CLIENT_TIMEOUT_MS}]})
    await mcp.close()
  })

  it('routine_add reports APPROVAL_REQUIRED as a tool error and rejects a bad cron before calling', async () => {
    let adds = 0
    const routines = fakeRoutines({routineAdd: () => (adds++, Promise.reject(new OsmodaError('APPROVAL_REQUIRED', 'needs approval', {details: {approval_id: 'apr_01JAAAAAAAAAAAAAAAAAAAAAAA'}})))})
    const mcp = await connect({clients: {agentd: fakeAgentd().agentd, watch: fakeWatch(), routines: routines.client}})
    const gated = await mcp.client.callTool({name: 'routine_add', arguments: {name: 'x', trigger: {type: 'interval', seconds: 60}, action: {type: 'command', command: '/bin/true'}}})
    expect(gated.isError).toBe(true)
    expect(text(gated)).toMatch(/^APPROVAL_REQUIRED/)
    expect(mcp.records.at(-1)).toMatchObject({tool: 'routine_add', outcome: 'approval_required'})
    const bad = await mcp.client.callTool({name: 'routine_add', arguments: {name: 'x', trigger: {type: 'cron', expression: '99 * * * *'}, action: {type: 'health_check'}}})
    expect(bad.isError).toBe(true)
    // Only the first (valid) call reached the daemon
    expect(adds).toBe(1)
    await mcp.close()
  })
})
