import {describe, expect, it} from 'vitest'
import type {SwitchSession} from '../../../daemons/watch/api.js'
import type {Watcher} from '../../../daemons/watch/watcher-api.js'
import {OsmodaError} from '../../errors.js'
import {connect, fakeAgentd, fakeWatch, text} from '../../../../test/helpers/mcp-fakes.js'

const SESSION: SwitchSession = {
  id: 'sw_01JDX8Q4S1T6V0W7Y2Z3A4B5C6',
  plan: 'enable nginx',
  target: {type: 'nixos', source: {store_path: '/nix/store/2mhkq587ngag8zljjmr972l9z85wngi9-sys'}},
  status: 'probation',
  previous_generation: 41,
  previous_system: '/nix/store/snrqb9885s7p8k5rrwi3rnkz362r0hd6-sysA',
  target_system: '/nix/store/2mhkq587ngag8zljjmr972l9z85wngi9-sys',
  target_generation: null,
  ttl_secs: 300,
  grace_secs: 30,
  failure_threshold: 3,
  check_interval_secs: 5,
  health_checks: [{type: 'tcp_port', host: '127.0.0.1', port: 80}],
  baseline_checks: true,
  consecutive_failures: 1,
  last_check_at: '2026-11-26T02:00:05.000Z',
  last_check_results: [{check: {type: 'tcp_port', host: '127.0.0.1', port: 80}, ok: false, detail: '127.0.0.1:80: ECONNREFUSED', duration_ms: 1}],
  diff: null,
  started_at: '2026-11-26T02:00:00.000Z',
  activated_at: '2026-11-26T02:00:01.000Z',
  probation_ends_at: '2026-11-26T02:05:01.000Z',
  ended_at: null,
  reason: null,
  actor: 'agent:ops',
}

describe('watch tools', () => {
  it('safe_switch_begin sends the validated arguments with defaults to watch and summarises the session', async () => {
    // Given a watch that records the begin it receives
    const received: unknown[] = []
    const watch = fakeWatch({switchBegin: async (input) => (received.push(input), SESSION)})
    const mcp = await connect({clients: {agentd: fakeAgentd().agentd, watch}})
    // When the agent begins a switch to a store path
    const result = await mcp.client.callTool({name: 'safe_switch_begin', arguments: {plan: 'enable nginx', target: SESSION.target, health_checks: [{type: 'tcp_port', port: 80}]}})
    // Then watch got the arguments with the schema defaults, and the agent a one-line status
    expect(result.isError).toBeFalsy()
    expect(received).toEqual([{plan: 'enable nginx', target: SESSION.target, health_checks: [{type: 'tcp_port', host: '127.0.0.1', port: 80}], baseline_checks: true, dry_run: false}])
    expect(text(result)).toMatch(/^sw_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 probation until 2026-11-26T02:05:01.000Z; last check FAILED \(127.0.0.1:80: ECONNREFUSED\)/)
    expect(mcp.records[0]).toMatchObject({tool: 'safe_switch_begin', toolset: 'watch', outcome: 'ok'})
    await mcp.close()
  })

  it('passes APPROVAL_REQUIRED through as a tool error and records approval_required', async () => {
    const watch = fakeWatch({
      switchBegin: () => Promise.reject(new OsmodaError('APPROVAL_REQUIRED', 'safe_switch_begin needs approval', {details: {approval_id: 'apr_01JDX8Q4S1T6V0W7Y2Z3A4B5C6', expires_at: '2026-11-26T02:10:00.000Z', operation: 'safe_switch_begin', summary: 's'}})),
    })
    const mcp = await connect({clients: {agentd: fakeAgentd().agentd, watch}})
    const result = await mcp.client.callTool({name: 'safe_switch_begin', arguments: {plan: 'x'}})
    expect(result.isError).toBe(true)
    expect(text(result)).toMatch(/APPROVAL_REQUIRED/)
    expect(mcp.records[0]).toMatchObject({outcome: 'approval_required', error_code: 'APPROVAL_REQUIRED'})
    await mcp.close()
  })

  it('rejects bad arguments before watch is called', async () => {
    const mcp = await connect({clients: {agentd: fakeAgentd().agentd, watch: fakeWatch()}})
    const result = await mcp.client.callTool({name: 'safe_switch_begin', arguments: {plan: 'x', ttl_secs: 5, health_checks: [{type: 'command', command: 'curl'}]}})
    expect(result.isError).toBe(true)
    expect(text(result)).toMatch(/VALIDATION_FAILED/)
    await mcp.close()
  })
})

const WATCHER: Watcher = {
  id: 'wat_01JDX8Q4S1T6V0W7Y2Z3A4B5C6',
  name: 'api',
  check: {type: 'http_get', url: 'http://127.0.0.1:8080/health', expect_status: 200},
  interval_secs: 30,
  actions: [{type: 'notify', message: 'api down', severity: 'warning'}],
  stable_secs: 300,
  state: 'degraded',
  step: 0,
  consecutive_failures: 2,
  last_result: {ok: false, detail: 'GET http://127.0.0.1:8080/health: ECONNREFUSED', at: '2026-11-26T03:00:00.000Z'},
  last_action: null,
  actions_in_window: 0,
  created_at: '2026-11-26T02:00:00.000Z',
  actor: 'agent:ops',
}

describe('watcher tools', () => {
  it('watcher_add sends the validated arguments to watch and summarises the watcher', async () => {
    // Given a watch that records the add it receives
    const received: unknown[] = []
    const watch = fakeWatch({watcherAdd: async (input) => (received.push(input), WATCHER)})
    const mcp = await connect({clients: {agentd: fakeAgentd().agentd, watch}})
    // When the agent adds a watcher without actions
    const result = await mcp.client.callTool({name: 'watcher_add', arguments: {name: 'api', check: {type: 'http_get', url: 'http://127.0.0.1:8080/health'}}})
    // Then watch got the check with its defaults (the ladder is watch's default), and the agent a one-line status
    expect(result.isError).toBeFalsy()
    expect(received).toEqual([{name: 'api', check: {type: 'http_get', url: 'http://127.0.0.1:8080/health', expect_status: 200}}])
    expect(text(result)).toBe('added wat_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 api degraded; last check FAILED (GET http://127.0.0.1:8080/health: ECONNREFUSED); ladder notify')
    await mcp.close()
  })

  it('watcher_add refuses bad ladders before watch is called', async () => {
    const mcp = await connect({clients: {agentd: fakeAgentd().agentd, watch: fakeWatch()}})
    for (const args of [
      {name: 'a', check: {type: 'tcp_port', port: 80}, actions: [{type: 'reboot'}]},
      {name: 'a', check: {type: 'tcp_port', port: 80}, actions: [{type: 'command', command: 'systemctl'}]},
      {name: 'a', check: {type: 'tcp_port', port: 80}, interval_secs: 1},
      {name: 'x'.repeat(65), check: {type: 'tcp_port', port: 80}},
    ]) {
      const result = await mcp.client.callTool({name: 'watcher_add', arguments: args})
      expect(result.isError).toBe(true)
      expect(text(result)).toMatch(/VALIDATION_FAILED/)
    }
    await mcp.close()
  })

  it('watcher_list passes the state filter and lists one line per watcher', async () => {
    const received: unknown[] = []
    const watch = fakeWatch({watcherList: async (input) => (received.push(input), {watchers: [WATCHER]})})
    const mcp = await connect({clients: {agentd: fakeAgentd().agentd, watch}})
    const result = await mcp.client.callTool({name: 'watcher_list', arguments: {state: 'degraded'}})
    expect(received).toEqual([{state: 'degraded'}])
    expect(text(result)).toMatch(/^wat_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 api degraded; last check FAILED/)
    await mcp.close()
  })
})
