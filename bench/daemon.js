// Figures that need a running agentd: MCP tool-call latency through the daemon, `osmoda health`
// wall time next to an empty oclif command, and idle agentd memory.
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StdioClientTransport} from '@modelcontextprotocol/sdk/client/stdio.js'
import {DAEMON_NODE_FLAGS} from '../dist/lib/supervisor.js'
import {percentile, report, round, wallTime} from './lib.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BIN = join(ROOT, 'bin', 'run.js')

async function waitForSocket(env, ms = 15_000) {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const r = spawnSync(process.execPath, [BIN, 'health', '--json'], {env})
    if (r.status === 0) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('agentd did not start')
}

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) / 1024
}

const TOOLS = [
  {name: 'event_log', arguments: {limit: 1}},
  {name: 'system_health', arguments: {}},
]

/**
 * Per-tool sorted latencies (ms) of sequential calls, measured after `warmup` calls spread over
 * all tools: `osmoda mcp` lives as long as an agent session, so its steady state is what an agent
 * sees (JIT-compiled paths in both the server and agentd).
 */
async function measureCalls(callTool, calls, warmup) {
  for (let i = 0; i < warmup; i++) await callTool(TOOLS[i % TOOLS.length])
  const byTool = {}
  for (const tool of TOOLS) {
    const times = []
    for (let i = 0; i < calls; i++) {
      const start = performance.now()
      await callTool(tool)
      times.push(performance.now() - start)
    }
    byTool[tool.name] = times.sort((a, b) => a - b)
  }
  return byTool
}

/** A minimal newline-delimited JSON-RPC client of `osmoda mcp` (no SDK on the client side). */
async function rawMcpClient(env) {
  const child = spawn(process.execPath, [BIN, 'mcp'], {env, stdio: ['pipe', 'pipe', 'ignore']})
  const waiting = new Map()
  let buffer = ''
  child.stdout.on('data', (chunk) => {
    buffer += chunk
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const message = JSON.parse(buffer.slice(0, nl))
      buffer = buffer.slice(nl + 1)
      waiting.get(message.id)?.(message)
      waiting.delete(message.id)
    }
  })
  let id = 0
  const rpc = (method, params) =>
    new Promise((resolve) => {
      waiting.set(++id, resolve)
      child.stdin.write(`${JSON.stringify({jsonrpc: '2.0', id, method, params})}\n`)
    })
  await rpc('initialize', {protocolVersion: '2025-06-18', capabilities: {}, clientInfo: {name: 'bench', version: '1'}})
  child.stdin.write(`${JSON.stringify({jsonrpc: '2.0', method: 'notifications/initialized'})}\n`)
  return {
    async callTool(tool) {
      const answer = await rpc('tools/call', tool)
      if (answer.error || answer.result?.isError) throw new Error(`${tool.name} failed: ${JSON.stringify(answer)}`)
    },
    async close() {
      child.stdin.end()
      await new Promise((resolve) => child.once('exit', resolve))
    },
  }
}

/** Runs the daemon benchmarks against a throwaway installation. */
export async function benchDaemon() {
  const base = mkdtempSync(join(tmpdir(), 'osmoda-bench-'))
  const env = {...process.env, OSMODA_RUN_DIR: join(base, 'run'), OSMODA_STATE_DIR: join(base, 'state'), OSMODA_CONFIG_DIR: join(base, 'config')}
  delete env.OSMODA_TOKEN
  spawnSync(process.execPath, [BIN, 'init'], {env})
  // Started as `osmoda up` and the NixOS unit start it.
  const agentd = spawn(process.execPath, [...DAEMON_NODE_FLAGS, BIN, 'daemon', 'agentd'], {env, stdio: 'ignore'})
  try {
    await waitForSocket(env)

    // Idle memory: after start-up work and the first CPU sample have settled.
    await new Promise((resolve) => setTimeout(resolve, 6000))
    report({figure: 'agentd_idle_rss', unit: 'MB', value: round(rssMb(agentd.pid)), goal: 70})

    // MCP tool calls through the daemon, over stdio like a real agent runtime.
    const calls = Number(process.env.BENCH_MCP_CALLS ?? 1000)
    const warmup = Number(process.env.BENCH_MCP_WARMUP ?? 1000)
    const transport = new StdioClientTransport({command: process.execPath, args: [BIN, 'mcp'], env: {...env, OSMODA_AGENT_ID: 'bench'}, stderr: 'ignore'})
    const client = new Client({name: 'bench', version: '1'})
    await client.connect(transport)
    const sdk = await measureCalls(async (tool) => {
      const result = await client.callTool(tool)
      if (result.isError) throw new Error(`${tool.name} failed: ${JSON.stringify(result.content)}`)
    }, calls, warmup)
    await client.close()
    // The same through a minimal JSON-RPC client: what the server and daemon cost, without the
    // SDK client's own work (it validates every result against the tool's output schema).
    const raw = await rawMcpClient({...env, OSMODA_AGENT_ID: 'bench'})
    const bare = await measureCalls((tool) => raw.callTool(tool), calls, warmup)
    await raw.close()
    for (const [figure, byTool, note] of [
      ['mcp_tool_call_latency', sdk, 'SDK stdio client; includes the durable tool.called append'],
      ['mcp_tool_call_latency_raw_client', bare, 'newline-delimited JSON-RPC over stdio, no SDK client; includes the durable tool.called append'],
    ]) {
      for (const [tool, times] of Object.entries(byTool)) {
        report({figure, tool, unit: 'ms', p50: round(percentile(times, 50)), p99: round(percentile(times, 99)), goal_p50: 1.5, goal_p99: 5, n: calls, warmup_calls: warmup, note})
      }
    }

    // CLI start-up: one real request vs an oclif command that does nothing, and bare Node.
    const health = wallTime([process.execPath, BIN, 'health', '--json'], {env})
    const empty = wallTime([process.execPath, join(ROOT, 'bench', 'fixtures', 'empty-cli', 'bin', 'run.js'), 'noop'], {cwd: ROOT})
    const node = wallTime([process.execPath, '-e', '0'])
    const bareEnv = {...process.env}
    delete bareEnv.NODE_EXTRA_CA_CERTS
    const nodeBare = wallTime([process.execPath, '-e', '0'], {env: bareEnv})
    const envBare = {...env}
    delete envBare.NODE_EXTRA_CA_CERTS
    const healthBare = wallTime([process.execPath, BIN, 'health', '--json'], {env: envBare})
    report({figure: 'cli_health_wall_time', unit: 'ms', value: health.median_ms, empty_oclif_command_ms: empty.median_ms, node_e0_ms: node.median_ms, without_extra_ca_certs: {health_ms: healthBare.median_ms, node_e0_ms: nodeBare.median_ms}, runs: health.runs})
  } finally {
    agentd.kill('SIGTERM')
    await new Promise((resolve) => agentd.once('exit', resolve))
    rmSync(base, {recursive: true, force: true})
  }
}
