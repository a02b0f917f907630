import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {copyFileSync, existsSync, mkdirSync} from 'node:fs'
import {hostname} from 'node:os'
import {join} from 'node:path'
import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StdioClientTransport} from '@modelcontextprotocol/sdk/client/stdio.js'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {verifyAgentCard} from '../src/daemons/agentd/agent-card/signature.js'
import {loadNodePublicKey} from '../src/lib/identity.js'
import {BIN, ROOT, testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'
import {TOOLS_BY_TOOLSET} from '../src/lib/mcp/tools/index.js'

const ALL_TOOLS = Object.values(TOOLS_BY_TOOLSET).flat()
const AGENT_TOOL_NAMES = ALL_TOOLS.filter((t) => t.roles.includes('agent')).map((t) => t.name)

let env: TestEnv
let agentd: DaemonProcess

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex')
const text = (result: unknown) => (result as {content?: {text?: string}[]}).content?.[0]?.text ?? ''

beforeAll(async () => {
  // The test runs the built binary; build it when this checkout has never been built.
  if (!existsSync(join(ROOT, 'dist', 'commands', 'mcp.js'))) execFileSync('npm', ['run', 'build'], {cwd: ROOT, stdio: 'inherit'})
  env = await testEnv()
  agentd = await env.start('agentd')
}, 120_000)

afterAll(async () => {
  if (agentd?.child.exitCode === null) await agentd.stop()
  await env?.cleanup()
})

/** `osmoda mcp` as an agent runtime starts it: a child process speaking MCP on stdio. */
async function startMcp(extraEnv: Record<string, string> = {}) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'mcp'],
    env: {...(env.env as Record<string, string>), OSMODA_AGENT_ID: 'e2e', ...extraEnv},
    stderr: 'pipe',
  })
  let stderr = ''
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
  const client = new Client({name: 'osmoda-e2e', version: '0.0.0'})
  await client.connect(transport)
  return {client, transport, stderr: () => stderr}
}

describe('osmoda mcp over stdio against a real agentd', () => {
  it('serves the agentd tools and records every call in the ledger', async () => {
    // Given osmoda mcp started with the agent token and OSMODA_AGENT_ID=e2e
    const mcp = await startMcp()
    const operator = env.client('agentd', agentdApi)
    const head = (await operator.ledgerStatus()).size

    // When the agent lists the tools
    const {tools} = await mcp.client.listTools()
    // Then it sees the agentd tools with object schemas and the hints the catalogue declares (their
    // SPEC values are checked letter by letter in server.test.ts)
    expect(tools.map((t) => t.name)).toEqual(AGENT_TOOL_NAMES)
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe('object')
      expect(tool.outputSchema?.type).toBe('object')
      expect(tool.annotations).toEqual(ALL_TOOLS.find((t) => t.name === tool.name)?.annotations)
    }

    // When it calls each tool (the SDK client validates structuredContent against outputSchema)
    const health = await mcp.client.callTool({name: 'system_health', arguments: {}})
    const query = await mcp.client.callTool({name: 'system_query', arguments: {query: 'hostname'}})
    const discover = await mcp.client.callTool({name: 'system_discover', arguments: {}})
    const log = await mcp.client.callTool({name: 'event_log', arguments: {limit: 5}})

    // Then each answers with the route output
    for (const result of [health, query, discover, log]) expect(result.isError, text(result)).toBeFalsy()
    expect(health.structuredContent).toMatchObject({daemon: 'agentd', status: 'ok', pid: agentd.child.pid})
    expect(query.structuredContent).toEqual({query: 'hostname', result: {hostname: hostname()}})
    expect(discover.structuredContent).toHaveProperty('found')
    expect((log.structuredContent as {events: unknown[]}).events.length).toBeLessThanOrEqual(5)
    expect(text(query)).toContain(hostname())

    // And the ledger holds exactly one tool.called per call, by agent:e2e, in call order
    const recorded = async () => (await operator.eventsLog({type: 'tool.called', after: head, limit: 100})).events
    const events = await recorded()
    expect(events.map((e) => [e.actor, e.payload.tool, e.payload.outcome])).toEqual([
      ['agent:e2e', 'system_health', 'ok'],
      ['agent:e2e', 'system_query', 'ok'],
      ['agent:e2e', 'system_discover', 'ok'],
      ['agent:e2e', 'event_log', 'ok'],
    ])
    expect(events.map((e) => e.payload.args_sha256)).toEqual([sha256('{}'), sha256('{"query":"hostname"}'), sha256('{}'), sha256('{"limit":5}')])
    expect(events[0]?.payload).toMatchObject({toolset: 'agentd', agent_id: 'e2e', error_code: null, approval_id: null})

    // When the agent sends invalid arguments
    const invalid = await mcp.client.callTool({name: 'event_log', arguments: {limit: 0}})
    // Then it gets a tool error it can act on, and one more record with outcome error
    expect(invalid.isError).toBe(true)
    expect(text(invalid)).toMatch(/^VALIDATION_FAILED: invalid arguments for event_log: limit: /)
    const after = await recorded()
    expect(after).toHaveLength(5)
    expect(after[4]).toMatchObject({actor: 'agent:e2e', payload: {tool: 'event_log', outcome: 'error', error_code: 'VALIDATION_FAILED', args_sha256: sha256('{"limit":0}')}})

    // When the agent stores a memory and recalls it
    const stored = await mcp.client.callTool({name: 'memory_store', arguments: {summary: 'e2e: nginx needed a reload after the cert renewal', category: 'fix', tags: ['nginx']}})
    const recalled = await mcp.client.callTool({name: 'memory_recall', arguments: {query: 'reloading nginx', category: 'fix'}})
    // Then the memory is found, stored as agent e2e
    expect(stored.isError, text(stored)).toBeFalsy()
    expect(recalled.structuredContent).toMatchObject({total_matches: 1, memories: [{id: (stored.structuredContent as {id: string}).id, agent_id: 'e2e', relevance: 1}]})

    // When the client closes stdin
    const pid = mcp.transport.pid
    const closing = Date.now()
    await mcp.client.close()
    // Then osmoda mcp exits by itself, well before the SDK's 2 s SIGTERM fallback
    expect(Date.now() - closing, mcp.stderr()).toBeLessThan(1900)
    expect(() => process.kill(pid as number, 0)).toThrow()
    operator.close()
  })

  it('gives the agent the signed card through agent_card, and no way to publish one on its own', async () => {
    // Given osmoda mcp for agent e2e
    const mcp = await startMcp()
    // When the agent reads the card (the SDK client validates it against the output schema)
    const got = await mcp.client.callTool({name: 'agent_card', arguments: {}})
    // Then it is the A2A card, signed by this node
    expect(got.isError, text(got)).toBeFalsy()
    const {card} = got.structuredContent as {card: {name: string}}
    expect(card.name).toBe('osmoda')
    expect(verifyAgentCard(card, loadNodePublicKey(env.paths).verifyKey)).toBe(true)
    // When it tries to generate one / Then the gate refuses it as a tool error and nothing is stored
    const generated = await mcp.client.callTool({name: 'agent_card', arguments: {action: 'generate', name: 'mine'}})
    expect(generated.isError).toBe(true)
    expect(text(generated)).toMatch(/^(APPROVAL_REQUIRED|FEATURE_DISABLED): /)
    expect(existsSync(join(env.paths.daemonStateDir('agentd'), 'agent-card.json'))).toBe(false)
    await mcp.client.close()
  })

  it('works an incident through the tools: open, step citing a receipt, resolve, then CONFLICT', async () => {
    // Given osmoda mcp for agent e2e
    const mcp = await startMcp()
    // When the agent opens an incident, lists receipts and records steps
    const opened = await mcp.client.callTool({name: 'incident_create', arguments: {name: 'e2e outage', severity: 'low'}})
    expect(opened.isError, text(opened)).toBeFalsy()
    const id = (opened.structuredContent as {id: string}).id
    const receipts = await mcp.client.callTool({name: 'receipt_list', arguments: {since: '1h'}})
    expect(receipts.isError, text(receipts)).toBeFalsy()
    const done = await mcp.client.callTool({name: 'incident_step', arguments: {id, action: 'checked health', result: 'ok', receipt_id: 'rcpt_1', resolve: true}})
    // Then the incident is resolved with the step, by agent:e2e in the ledger
    expect(done.isError, text(done)).toBeFalsy()
    expect(done.structuredContent).toMatchObject({id, status: 'resolved', steps: [{step_number: 1, receipt_id: 'rcpt_1'}]})
    expect(text(done)).toBe(`${id}: step 1 recorded; incident resolved`)
    const operator = env.client('agentd', agentdApi)
    const {events} = await operator.eventsLog({type: 'incident.*', limit: 10})
    expect(events.filter((e) => e.payload.incident_id === id).map((e) => [e.type, e.actor]).reverse()).toEqual([
      ['incident.created', 'agent:e2e'],
      ['incident.step_added', 'agent:e2e'],
      ['incident.resolved', 'agent:e2e'],
    ])
    // And another step is a tool error naming the conflict
    const again = await mcp.client.callTool({name: 'incident_step', arguments: {id, action: 'again', result: ''}})
    expect(again.isError).toBe(true)
    expect(text(again)).toMatch(/^CONFLICT: incident inc_\w+ is resolved/)
    await mcp.client.close()
    operator.close()
  })

  it('makes a backup through backup_create and finds it with backup_list', async () => {
    // Given osmoda mcp as agent e2e
    const mcp = await startMcp()
    const operator = env.client('agentd', agentdApi)
    // When the agent makes a backup and lists backups
    const created = await mcp.client.callTool({name: 'backup_create', arguments: {note: 'from the agent'}})
    expect(created.isError, text(created)).toBeFalsy()
    const id = (created.structuredContent as {id: string}).id
    const list = await mcp.client.callTool({name: 'backup_list', arguments: {limit: 1}})
    // Then the list shows it, and the ledger says the agent made it
    expect((list.structuredContent as {backups: {id: string; note: string}[]}).backups).toMatchObject([{id, note: 'from the agent'}])
    expect(text(created)).toContain(id)
    expect((await operator.eventsLog({type: 'backup.created', limit: 1})).events[0]).toMatchObject({actor: 'agent:e2e', payload: {id}})
    await mcp.client.close()
    operator.close()
  })

  it('runs a command in a real sandbox through sandbox_exec', async () => {
    // Given osmoda mcp as agent e2e (bubblewrap is installed wherever this suite runs: .ci/run)
    const mcp = await startMcp()
    // When the agent runs a tier-2 command
    const ran = await mcp.client.callTool({name: 'sandbox_exec', arguments: {command: 'echo sandboxed; id -u'}})
    // Then the output comes back as structured content and a one-line summary
    expect(ran.isError, text(ran)).toBeFalsy()
    expect(ran.structuredContent).toMatchObject({tier: 2, exit_code: 0, timed_out: false})
    expect((ran.structuredContent as {stdout: string}).stdout).toMatch(/^sandboxed\n\d+\n$/)
    expect(text(ran)).toMatch(/^tier 2 exit 0 in \d+ ms/)
    await mcp.client.close()
  })

  it('checks agentd with the agent token and never falls back to the operator token', async () => {
    // Given agentd is up, --check answers 0
    expect((await env.cli(['mcp', '--check'])).exitCode).toBe(0)
    // Given a state dir that holds only the operator token
    const stateDir = join(env.base, 'operator-only')
    mkdirSync(join(stateDir, 'tokens'), {recursive: true})
    copyFileSync(join(env.paths.tokensDir, 'operator'), join(stateDir, 'tokens', 'operator'))
    // When osmoda mcp looks for its token there
    const check = await env.cli(['mcp', '--check', '--json'], {env: {OSMODA_STATE_DIR: stateDir}})
    // Then it refuses (exit 4) instead of using the operator token
    expect(check.exitCode).toBe(4)
    expect(check.json).toMatchObject({error: {code: 'UNAUTHENTICATED'}})
  })

  it('lists the catalogue without a daemon and rejects unknown toolsets', async () => {
    const list = await env.cli(['mcp', '--list', '--json'], {env: {OSMODA_RUN_DIR: join(env.base, 'no-daemons-here')}})
    expect(list.exitCode).toBe(0)
    expect(list.json.result.tools.map((t: {name: string}) => t.name)).toEqual(AGENT_TOOL_NAMES)
    expect(list.json.result.tools[0].inputSchema.type).toBe('object')
    const table = await env.cli(['mcp', '--list', '--toolsets', 'agentd', '--read-only'])
    expect(table.stdout).toMatch(/^NAME +TOOLSET +ANNOTATIONS +TITLE\nsystem_health +agentd +R I +System health/)
    const empty = await env.cli(['mcp', '--list', '--toolsets', 'voice'])
    expect(empty.exitCode).toBe(0)
    expect(empty.stderr).toContain('no tools in voice for the agent role yet')
    const unknown = await env.cli(['mcp', '--toolsets', 'agentd,nope', '--list'])
    expect(unknown.exitCode).toBe(2)
    expect(unknown.stderr).toContain('unknown toolset nope')
  })

  it('shuts agentd down cleanly afterwards', async () => {
    await agentd.stopClean()
    expect(existsSync(agentd.socket)).toBe(false)
    // With agentd gone, --check reports it unreachable with exit 3
    const check = await env.cli(['mcp', '--check', '--json'])
    expect(check.exitCode).toBe(3)
    expect(check.json).toMatchObject({error: {code: 'DAEMON_UNAVAILABLE'}})
  })
})
