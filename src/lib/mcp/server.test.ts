import {describe, expect, it} from 'vitest'
import {z} from 'zod'
import {agentdApi} from '../../daemons/agentd/api.js'
import {ApprovalRequiredError, DaemonUnavailableError, OsmodaError, PermissionDeniedError} from '../errors.js'
import {defineTool, type AnyTool, type Toolset} from './define-tool.js'
import {createToolCallRecorder, type ToolCallRecord} from './recorder.js'
import type {OsmodaMcpServerOptions} from './server.js'
import {AGENTD_TOOLS} from './tools/agentd.js'
import {TOOLS_BY_TOOLSET} from './tools/index.js'
import {sha256, HEALTH, QUERY, DISCOVER, STORED, RECALL, PAGE, RECEIPTS, INCIDENT, EXEC_RESULT, fakeAgentd, fakeWatch, connect, text, CARD_BUNDLE} from '../../../test/helpers/mcp-fakes.js'


describe('osmoda MCP server: tools/list', () => {
  it('lists the agentd tools with object schemas and all four annotations', async () => {
    const mcp = await connect()
    const {tools} = await mcp.client.listTools()
    // The agent sees every tool its role may call, in catalogue order
    expect(tools.map((t) => t.name)).toEqual(Object.values(TOOLS_BY_TOOLSET).flat().filter((t) => t.roles.includes('agent')).map((t) => t.name))
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe('object')
      expect(tool.outputSchema?.type).toBe('object')
      expect(tool.inputSchema).not.toHaveProperty('$schema')
      expect(tool.description?.length).toBeGreaterThan(80)
      expect(tool.title).toBeTruthy()
      for (const hint of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const) expect(typeof tool.annotations?.[hint]).toBe('boolean')
    }
    // SPEC §3's Ann. column, letter for letter (R readOnly, D destructive, I idempotent, W openWorld)
    const ann = (letters: string) => ({readOnlyHint: letters.includes('R'), destructiveHint: letters.includes('D'), idempotentHint: letters.includes('I'), openWorldHint: letters.includes('W')})
    const spec: Record<string, string> = {
      system_health: 'R I',
      system_query: 'R I',
      system_discover: 'R I',
      event_log: 'R I',
      shell_exec: 'D W',
      file_read: 'R I',
      file_write: 'D I',
      directory_list: 'R I',
      service_status: 'R I',
      journal_logs: 'R I',
      memory_store: '',
      memory_recall: 'R I',
      network_info: 'R I',
      agent_card: 'I',
      receipt_list: 'R I',
      incident_create: '',
      incident_step: '',
      backup_create: '',
      backup_list: 'R I',
      safety_rollback: 'D',
      safety_status: 'R I',
      safety_panic: 'D',
      safety_restart: 'D',
      approval_request: 'I',
      approval_pending: 'R I',
      approval_approve: 'I',
      approval_check: 'R I',
      sandbox_exec: 'W',
      capability_mint: '',
      wallet_create: '',
      wallet_list: 'R I',
      wallet_sign: '',
      wallet_send: 'D',
      wallet_delete: 'D I',
      wallet_receipt: 'R I',
      wallet_build_tx: 'D',
      safe_switch_begin: 'D',
      safe_switch_status: 'R I',
      safe_switch_commit: 'I',
      safe_switch_rollback: 'D I',
      safe_switch_list: 'R I',
      routine_add: '',
      routine_list: 'R I',
      routine_trigger: '',
      watcher_add: '',
      watcher_list: 'R I',
      fleet_propose: 'D W',
      fleet_status: 'R I',
      fleet_vote: 'W',
      fleet_rollback: 'D W',
      mesh_identity: 'R I',
      mesh_invite_create: 'W',
      mesh_invite_accept: 'W',
      mesh_peers: 'R I',
      mesh_peer_send: 'W',
      mesh_peer_disconnect: 'D I',
      mesh_health: 'R I',
      mesh_room_create: '',
      mesh_room_join: 'I W',
      mesh_room_send: 'W',
      mesh_room_history: 'R I',
    }
    const listed = await connect({role: 'operator'})
    const operatorTools = (await listed.client.listTools()).tools
    await listed.close()
    const all = [...new Map([...tools, ...operatorTools].map((t) => [t.name, t])).values()]
    expect(Object.fromEntries(all.map((t) => [t.name, t.annotations]))).toEqual(Object.fromEntries(all.map((t) => [t.name, ann(spec[t.name] ?? `missing from the SPEC table: ${t.name}`)])))
    expect(all.map((t) => t.name).sort()).toEqual(Object.keys(spec).sort())
    const byName = new Map(tools.map((t) => [t.name, t]))
    expect(byName.get('system_query')?.inputSchema.required).toEqual(['query'])
    expect(Object.keys(byName.get('event_log')?.inputSchema.properties ?? {}).sort()).toEqual(['actor', 'after', 'before', 'limit', 'type'])
    expect(byName.get('incident_step')?.inputSchema.required).toEqual(['id', 'action', 'result'])
    expect(byName.get('file_write')?.inputSchema.required).toEqual(['path', 'content'])
    expect(Object.keys(byName.get('file_write')?.inputSchema.properties ?? {}).sort()).toEqual(['append', 'approval_id', 'content', 'create_dirs', 'encoding', 'mode', 'path'])
    expect(Object.keys(byName.get('file_read')?.inputSchema.properties ?? {}).sort()).toEqual(['encoding', 'max_lines', 'offset_line', 'path'])
    expect(Object.keys(byName.get('directory_list')?.inputSchema.properties ?? {}).sort()).toEqual(['include_hidden', 'limit', 'max_depth', 'path', 'recursive'])
    expect(Object.keys(byName.get('receipt_list')?.inputSchema.properties ?? {}).sort()).toEqual(['actor', 'cursor', 'limit', 'since', 'type'])
    expect(byName.get('system_health')?.inputSchema).toMatchObject({properties: {}, additionalProperties: false})
    expect(byName.get('system_health')?.outputSchema?.required).toContain('ledger')
    await mcp.close()
  })

  it('keeps the public tool list stable', async () => {
    const mcp = await connect()
    const {tools} = await mcp.client.listTools()
    expect(tools).toMatchSnapshot()
    await mcp.close()
  })

  it('introduces itself as osmoda with the package version', async () => {
    const mcp = await connect()
    expect(mcp.client.getServerVersion()).toMatchObject({name: 'osmoda', version: expect.stringMatching(/^\d+\.\d+\.\d+/)})
    expect(mcp.client.getServerCapabilities()?.tools).toBeDefined()
    await mcp.close()
  })
})

describe('osmoda MCP server: tools/call', () => {
  const cases = [
    {tool: 'system_health', args: undefined, canonical: '{}', route: 'health', want: HEALTH, summary: /^box: ok; 20% cpu of 2 cores/},
    {tool: 'system_query', args: {query: 'hostname'}, canonical: '{"query":"hostname"}', route: 'systemQuery', want: QUERY, summary: /^hostname: \{"hostname":"box"\}/},
    {tool: 'system_discover', args: {}, canonical: '{}', route: 'systemDiscover', want: DISCOVER, summary: /^1 services on 3 listening ports \(systemd available\): nginx:80/},
    {tool: 'event_log', args: {type: 'daemon.*', limit: 5}, canonical: '{"limit":5,"type":"daemon.*"}', route: 'eventsLog', want: PAGE, summary: /^1 events \(seq 3\.\.3\)$/},
    {tool: 'shell_exec', args: {command: 'df -h /'}, canonical: '{"command":"df -h /"}', route: 'shellExec', want: EXEC_RESULT, summary: /^sandbox: exit 0 after 12 ms, 71 bytes stdout, 0 bytes stderr$/},
    {tool: 'receipt_list', args: {since: '24h'}, canonical: '{"since":"24h"}', route: 'receiptList', want: RECEIPTS, summary: /^1 receipts \(app\.deployed\)$/},
    {tool: 'incident_create', args: {name: 'nginx 502', severity: 'high'}, canonical: '{"name":"nginx 502","severity":"high"}', route: 'incidentCreate', want: INCIDENT, summary: /^opened inc_\w+ \(high\): nginx 502$/},
    {tool: 'incident_step', args: {id: INCIDENT.id, action: 'restarted nginx', result: 'ok', resolve: true}, canonical: `{"action":"restarted nginx","id":"${INCIDENT.id}","resolve":true,"result":"ok"}`, route: 'incidentStep', want: INCIDENT, summary: /step 1 recorded; incident resolved$/},
    {tool: 'memory_store', args: {summary: 'nginx reload after cert renewal', tags: ['nginx']}, canonical: '{"summary":"nginx reload after cert renewal","tags":["nginx"]}', route: 'memoryStore', want: STORED, summary: /^stored mem_01JDQ7Z8X9Y0ABCDEFGHJKMNPQ \(ledger seq 9\)$/},
    {tool: 'memory_recall', args: {query: 'nginx'}, canonical: '{"query":"nginx"}', route: 'memoryRecall', want: RECALL, summary: /^1 of 1 memories; best: mem_01JDQ7Z8X9Y0ABCDEFGHJKMNPQ: nginx reload/},
    {tool: 'agent_card', args: {}, canonical: '{}', route: 'agentCardGet', want: CARD_BUNDLE, summary: /^agent card "osmoda" v0\.1\.0: 1 skills \(system-administration\); services mcp$/},
    {tool: 'agent_card', args: {action: 'generate', name: 'web-01'}, canonical: '{"action":"generate","name":"web-01"}', route: 'agentCardGenerate', want: CARD_BUNDLE, summary: /^agent card "osmoda"/},
  ] as const

  for (const c of cases) {
    it(`${c.tool} returns the route output and records one tool.called`, async () => {
      // Given a server over a fake agentd
      const mcp = await connect({sessionId: 'ses_1', requestId: 'req_1'})
      // When the agent calls the tool
      const result = await mcp.client.callTool({name: c.tool, arguments: c.args})
      // Then the structured content is exactly what the daemon returned, with a one-line summary
      expect(result.isError).toBeFalsy()
      expect(result.structuredContent).toEqual(c.want)
      expect(text(result)).toMatch(c.summary)
      expect(text(result)).not.toContain('\n')
      expect(mcp.calls.map((call) => call.route)).toEqual([c.route])
      // And exactly one record, hashed over the canonical JSON of the arguments as sent
      expect(mcp.records).toHaveLength(1)
      expect(mcp.records[0]).toMatchObject({
        tool: c.tool,
        toolset: 'agentd',
        args_sha256: sha256(c.canonical),
        outcome: 'ok',
        error_code: null,
        session_id: 'ses_1',
        request_id: 'req_1',
        approval_id: null,
      })
      expect(mcp.records[0]?.duration_ms).toBeGreaterThanOrEqual(0)
      await mcp.close()
    })
  }

  it('agent_card generate sends the route its fields without action', async () => {
    const mcp = await connect()
    await mcp.client.callTool({name: 'agent_card', arguments: {action: 'generate', name: 'web-01', approval_id: 'apr_1'}})
    expect(mcp.calls).toEqual([{route: 'agentCardGenerate', input: {name: 'web-01', approval_id: 'apr_1'}}])
    await mcp.close()
  })

  it('passes validated arguments, with defaults, to the daemon and hashes them as received', async () => {
    const mcp = await connect()
    await mcp.client.callTool({name: 'event_log', arguments: {type: 'tool.called', actor: 'agent:ops'}})
    // Defaults are filled in for the daemon; the digest covers only what the agent sent, keys sorted.
    expect(mcp.calls[0]?.input).toEqual({type: 'tool.called', actor: 'agent:ops', limit: 50})
    expect(mcp.records[0]?.args_sha256).toBe(sha256('{"actor":"agent:ops","type":"tool.called"}'))
    await mcp.close()
  })

  const invalid = [
    {name: 'limit 0', tool: 'event_log', args: {limit: 0}, want: /^VALIDATION_FAILED: invalid arguments for event_log: limit: /},
    {name: 'a field the tool hides', tool: 'event_log', args: {follow: true}, want: /^VALIDATION_FAILED: .*follow/},
    {name: 'an unknown query', tool: 'system_query', args: {query: 'passwords'}, want: /^VALIDATION_FAILED: .*query: /},
    {name: 'args of another query', tool: 'system_query', args: {query: 'disk', args: {limit: 5}}, want: /^VALIDATION_FAILED: .*args: not an argument of the disk query: limit/},
    {name: 'arguments to a tool that takes none', tool: 'system_health', args: {verbose: true}, want: /^VALIDATION_FAILED: /},
    {name: 'generate fields with action get', tool: 'agent_card', args: {name: 'x'}, want: /^VALIDATION_FAILED: .*action "generate" only/},
    {name: 'an unknown action', tool: 'agent_card', args: {action: 'delete'}, want: /^VALIDATION_FAILED: .*action/},
  ]
  for (const c of invalid) {
    it(`rejects ${c.name} without calling the daemon and records outcome error`, async () => {
      const mcp = await connect()
      const result = await mcp.client.callTool({name: c.tool, arguments: c.args})
      expect(result.isError).toBe(true)
      expect(result.structuredContent).toBeUndefined()
      expect(text(result)).toMatch(c.want)
      expect(mcp.calls).toEqual([])
      expect(mcp.records).toHaveLength(1)
      expect(mcp.records[0]).toMatchObject({tool: c.tool, outcome: 'error', error_code: 'VALIDATION_FAILED'})
      await mcp.close()
    })
  }

  const failures = [
    {
      name: 'APPROVAL_REQUIRED',
      error: new ApprovalRequiredError('host shell needs approval', {details: {approval_id: 'apr_7', expires_at: '2026-01-01T00:10:00.000Z'}}),
      outcome: 'approval_required',
      want: /^APPROVAL_REQUIRED: host shell needs approval\. Ask the operator to run `osmoda approval approve apr_7` before .*repeat this call .*"approval_id": "apr_7"/,
    },
    {name: 'FORBIDDEN', error: new PermissionDeniedError('FORBIDDEN', 'the agent role may not call GET /health'), outcome: 'denied', want: /^FORBIDDEN: the agent role/},
    {name: 'UNAUTHENTICATED', error: new PermissionDeniedError('UNAUTHENTICATED', 'unknown token', {hint: 'run osmoda init'}), outcome: 'denied', want: /^UNAUTHENTICATED: unknown token \(run osmoda init\)$/},
    {name: 'POLICY_DENIED', error: new PermissionDeniedError('POLICY_DENIED', 'over the daily limit'), outcome: 'denied', want: /^POLICY_DENIED: /},
    {name: 'PATH_DENIED', error: new PermissionDeniedError('PATH_DENIED', '/etc/shadow is denied'), outcome: 'denied', want: /^PATH_DENIED: /},
    {name: 'DAEMON_UNAVAILABLE', error: new DaemonUnavailableError('agentd'), outcome: 'error', want: /^DAEMON_UNAVAILABLE: osmoda-agentd is not reachable \(systemctl status osmoda-agentd/},
    {name: 'a non-osmoda error', error: new TypeError('boom'), outcome: 'error', want: /^INTERNAL: boom$/},
  ] as const
  for (const f of failures) {
    it(`maps a daemon ${f.name} to isError and outcome ${f.outcome}`, async () => {
      // Given agentd answers health with an error
      const fake = fakeAgentd({health: () => Promise.reject(f.error)})
      const mcp = await connect({clients: {agentd: fake.agentd, watch: fakeWatch()}})
      // When the tool is called
      const result = await mcp.client.callTool({name: 'system_health', arguments: {}})
      // Then the agent gets the code, message and hint, and the ledger gets the outcome
      expect(result.isError).toBe(true)
      expect(text(result)).toMatch(f.want)
      expect(mcp.records).toHaveLength(1)
      expect(mcp.records[0]).toMatchObject({outcome: f.outcome, error_code: f.error instanceof OsmodaError ? f.error.code : 'INTERNAL'})
      await mcp.close()
    })
  }

  it('records the approval_id of a repeated gated call', async () => {
    // Given a gated tool that needs an approval id
    const gated = defineTool({
      name: 'gated_probe',
      title: 'Gated probe',
      description: 'A test tool gated by approval.',
      toolset: 'agentd',
      route: agentdApi.eventsLog,
      input: agentdApi.eventsLog.input.omit({order: true, follow: true}).extend({approval_id: z.string().max(64).optional()}),
      annotations: {readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false},
      summarize: () => 'done',
      run: async (_clients, args) => {
        if (args.approval_id !== 'apr_1') throw new ApprovalRequiredError('needs approval', {details: {approval_id: 'apr_1'}})
        return PAGE
      },
    })
    const mcp = await connect({registry: registryWith({agentd: [gated]})})
    // When the agent calls, is told to get approval, and repeats with the id
    const first = await mcp.client.callTool({name: 'gated_probe', arguments: {limit: 1}})
    const second = await mcp.client.callTool({name: 'gated_probe', arguments: {limit: 1, approval_id: 'apr_1'}})
    // Then both calls are recorded, the second with its approval id
    expect(first.isError).toBe(true)
    expect(text(first)).toContain('osmoda approval approve apr_1')
    expect(second.isError).toBeFalsy()
    expect(mcp.records.map((r) => [r.outcome, r.approval_id])).toEqual([
      ['approval_required', null],
      ['ok', 'apr_1'],
    ])
    expect(mcp.records[1]?.args_sha256).toBe(sha256('{"approval_id":"apr_1","limit":1}'))
    await mcp.close()
  })

  it('answers an unknown tool with a protocol error and records nothing', async () => {
    const mcp = await connect()
    await expect(mcp.client.callTool({name: 'approval_approve', arguments: {id: 'apr_1'}})).rejects.toMatchObject({code: -32602, message: expect.stringContaining('Unknown tool: approval_approve')})
    expect(mcp.records).toEqual([])
    await mcp.close()
  })
})

describe('osmoda MCP server: selection', () => {
  const operatorOnly = defineTool({
    name: 'ledger_checkpoint_now',
    title: 'Sign a checkpoint',
    description: 'Operator-only test tool.',
    toolset: 'agentd',
    route: agentdApi.ledgerCheckpointNow,
    annotations: {readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false},
    summarize: () => 'signed',
    run: (clients) => clients.agentd.ledgerCheckpointNow(),
  })
  const keydTool = defineTool({
    name: 'wallet_probe',
    title: 'Wallet probe',
    description: 'A keyd test tool.',
    toolset: 'keyd',
    route: agentdApi.ledgerStatus,
    annotations: {readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false},
    summarize: () => 'ok',
    run: (clients) => clients.agentd.ledgerStatus(),
  })
  const registry = registryWith({agentd: [...AGENTD_TOOLS, operatorOnly], keyd: [keydTool]})
  const names = async (options: Partial<OsmodaMcpServerOptions>) => {
    const mcp = await connect({registry, ...options})
    const {tools} = await mcp.client.listTools()
    await mcp.close()
    return tools.map((t) => t.name)
  }

  it('lists only what the role may call', async () => {
    expect(await names({role: 'agent'})).toEqual([...AGENTD_TOOLS.filter((t) => t.roles.includes('agent')).map((t) => t.name), 'wallet_probe'])
    expect(await names({role: 'agent'})).not.toContain('approval_approve')
    expect(await names({role: 'operator'})).toContain('approval_approve')
    expect(await names({role: 'operator'})).toContain('ledger_checkpoint_now')
  })

  it('refuses to call a tool the role does not see', async () => {
    const mcp = await connect({registry, role: 'agent'})
    await expect(mcp.client.callTool({name: 'ledger_checkpoint_now', arguments: {}})).rejects.toMatchObject({code: -32602})
    await mcp.close()
  })

  it('keeps only the selected toolsets', async () => {
    expect(await names({toolsets: ['keyd']})).toEqual(['wallet_probe'])
    expect(await names({toolsets: ['agentd']})).toEqual(AGENTD_TOOLS.filter((t) => t.roles.includes('agent')).map((t) => t.name))
    expect(await names({toolsets: ['voice'], registry: TOOLS_BY_TOOLSET})).toEqual([])
  })

  it('keeps only read-only tools with readOnly', async () => {
    expect(await names({role: 'operator', readOnly: true})).not.toContain('ledger_checkpoint_now')
    expect(await names({role: 'operator', readOnly: false})).toContain('ledger_checkpoint_now')
  })
})

describe('osmoda MCP server: recording through a real recorder', () => {
  it('answers while agentd cannot record, then flushes the buffer in order', async () => {
    // Given agentd serves tools but its ledger endpoint is down
    const posted: ToolCallRecord[] = []
    let up = false
    const fake = fakeAgentd({
      toolCalls: async (record) => {
        if (!up) throw new DaemonUnavailableError('agentd')
        posted.push(record)
        return {seq: posted.length}
      },
    })
    const recorder = createToolCallRecorder({agentd: fake.agentd, log: () => {}, retryMs: 60_000})
    const mcp = await connect({clients: {agentd: fake.agentd, watch: fakeWatch()}, recorder})
    // When the agent makes two calls
    const a = await mcp.client.callTool({name: 'system_health', arguments: {}})
    const b = await mcp.client.callTool({name: 'event_log', arguments: {limit: 0}})
    // Then it gets its answers and the records wait in the buffer
    expect(a.isError).toBeFalsy()
    expect(b.isError).toBe(true)
    expect(recorder.pending()).toBe(2)
    // When agentd is back and the next call is made
    up = true
    await mcp.client.callTool({name: 'system_discover', arguments: {}})
    // Then all three are recorded in call order
    expect(posted.map((r) => [r.tool, r.outcome])).toEqual([
      ['system_health', 'ok'],
      ['event_log', 'error'],
      ['system_discover', 'ok'],
    ])
    await mcp.close()
    await recorder.close()
  })
})

function registryWith(parts: Partial<Record<Toolset, readonly AnyTool[]>>): Record<Toolset, readonly AnyTool[]> {
  return {agentd: [], keyd: [], watch: [], routines: [], mesh: [], mcpd: [], teachd: [], voice: [], managed: [], ...parts}
}
