// Seam fakes for the MCP server tests: a fake agentd client built to the typed client's shape,
// canned route outputs, and a real SDK Client connected over the in-memory transport.
import {createHash} from 'node:crypto'
import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {InMemoryTransport} from '@modelcontextprotocol/sdk/inMemory.js'
import type {z} from 'zod'
import {agentdApi, type AgentdApi} from '../../src/daemons/agentd/api.js'
import {watchApi, type WatchApi} from '../../src/daemons/watch/api.js'
import {keydApi, type KeydApi} from '../../src/daemons/keyd/api.js'
import type {RpcClient} from '../../src/lib/rpc/client.js'
import type {McpClients} from '../../src/lib/mcp/define-tool.js'
import type {ToolCallRecord} from '../../src/lib/mcp/recorder.js'
import {createOsmodaMcpServer, type OsmodaMcpServerOptions} from '../../src/lib/mcp/server.js'

export type Agentd = RpcClient<AgentdApi>
export type Output<K extends keyof AgentdApi> = z.output<AgentdApi[K]['output']>

const GIB = 1024 ** 3
export const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex')

export const HEALTH: Output<'health'> = {
  status: 'ok',
  daemon: 'agentd',
  version: '0.1.0',
  pid: 4242,
  uptime_secs: 12,
  hostname: 'box',
  cpu_count: 2,
  cpu_usage: [10, 30],
  memory_total: 8 * GIB,
  memory_used: 2 * GIB,
  memory_available: 6 * GIB,
  swap_total: 0,
  swap_used: 0,
  load_average: {one: 0.5, five: 0.4, fifteen: 0.3},
  uptime: 1000,
  disks: [{mount_point: '/', filesystem: '/dev/sda1', total: 100 * GIB, used: 40 * GIB, available: 60 * GIB}],
  ledger: {size: 12, verify_state: 'ok', first_bad_seq: null, last_checkpoint_size: null},
  sandbox: {available: false, reason: 'bwrap not installed'},
  nix: {available: false},
}
export const QUERY: Output<'systemQuery'> = {query: 'hostname', result: {hostname: 'box'}}
export const DISCOVER: Output<'systemDiscover'> = {
  found: [{name: 'nginx', pid: 10, port: 80, protocol: 'tcp', detected_as: 'http', health_url: null, systemd_unit: 'nginx.service', memory_bytes: 1000, cpu_usage: 0.1}],
  total_listening_ports: 3,
  total_systemd_services: 20,
  systemd: 'available',
}
export const STORED: Output<'memoryStore'> = {id: 'mem_01JDQ7Z8X9Y0ABCDEFGHJKMNPQ', seq: 9, path: '/var/lib/osmoda/memory/fix/2026-11/mem_01JDQ7Z8X9Y0ABCDEFGHJKMNPQ.md'}
export const RECALL: Output<'memoryRecall'> = {
  query: 'nginx',
  memories: [{id: STORED.id, ts: '2026-11-25T21:30:00.123Z', category: 'fix', subcategory: null, source: 'agent:ops', agent_id: 'ops', summary: 'nginx reload after cert renewal', detail: '', tags: ['nginx'], relevance: 1}],
  total_matches: 1,
  truncated: false,
}
export const PAGE: Output<'eventsLog'> = {
  events: [{seq: 3, ts: '2026-01-01T00:00:00.000Z', type: 'daemon.started', actor: 'agentd', payload: {daemon: 'agentd'}, prev_hash: 'a'.repeat(64), hash: 'b'.repeat(64)}],
  next_cursor: null,
}

export const RECEIPTS: Output<'receiptList'> = {
  receipts: [
    {id: 'rcpt_7', event_seq: 7, receipt_type: 'app.deployed', actor: 'agent:ops', summary: 'app.deployed by agent:ops (name=blog)', detail: {name: 'blog'}, timestamp: '2026-01-01T00:00:00.000Z', hash: 'c'.repeat(64), reversible: true, undo_action: 'osmoda app remove blog'},
  ],
  next_cursor: null,
}
export const INCIDENT: Output<'incidentCreate'> = {
  id: 'inc_01ARYZ6S41TSV4RRFFQ69G5FAV',
  name: 'nginx 502',
  severity: 'high',
  summary: '',
  status: 'resolved',
  steps: [{step_number: 1, action: 'restarted nginx', result: 'ok', receipt_id: 'rcpt_7', created_at: '2026-01-01T00:00:00.000Z'}],
  created_at: '2026-01-01T00:00:00.000Z',
  resolved_at: '2026-01-01T00:00:00.000Z',
}
export const BACKUP_INFO: Output<'backupList'>['backups'][number] = {
  id: 'bak_01JDQZ9V7C4Y3M2N1P0Q9R8S7T',
  path: '/var/backups/osmoda/bak_01JDQZ9V7C4Y3M2N1P0Q9R8S7T.tar.gz',
  size_bytes: 123456,
  sha256: 'c'.repeat(64),
  created_at: '2026-01-01T03:00:00.000Z',
  note: 'nightly',
}
export const CARD_BUNDLE: Output<'agentCardGet'> = {
  card: {
    name: 'osmoda',
    description: 'AI-native system agent with auditable safety',
    supportedInterfaces: [{url: 'http://127.0.0.1:18789', protocolBinding: 'HTTP+JSON', protocolVersion: '1.0'}],
    version: '0.1.0',
    capabilities: {streaming: true},
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: [{id: 'system-administration', name: 'System administration', description: 'x', tags: ['linux']}],
    signatures: [{protected: 'e30', signature: 'AA'}],
  },
  registration: {
    type: 'https://eips.ethereum.org/EIPS/eip-8004#registration-v1',
    name: 'osmoda',
    description: 'AI-native system agent with auditable safety',
    image: null,
    services: [{name: 'mcp', endpoint: 'stdio:osmoda mcp', version: '2025-11-25'}],
    x402Support: false,
    active: true,
    registrations: [],
    supportedTrust: ['eip-8004', 'hash-chain-ledger'],
    signatures: [{protected: 'e30', signature: 'AA'}],
  },
}
export const EXEC_RESULT: Output<'shellExec'> = {
  mode: 'sandbox',
  argv: ['df', '-h', '/'],
  exit_code: 0,
  signal: null,
  stdout: 'Filesystem Size Used Avail Use% Mounted on\n/dev/sda1 40G 12G 28G 30% /\n',
  stderr: '',
  stdout_truncated: false,
  stderr_truncated: false,
  timed_out: false,
  duration_ms: 12,
}
export const SANDBOX_RESULT: Output<'sandboxExec'> = {
  tier: 2,
  exit_code: 0,
  signal: null,
  stdout: 'hello\n',
  stderr: '',
  stdout_truncated: false,
  stderr_truncated: false,
  timed_out: false,
  duration_ms: 31,
  token_id: null,
  warnings: [],
}
export const BACKUP: Output<'backupCreate'> = {...BACKUP_INFO, manifest: {files: 4, ledger_size: 12, ledger_head_hash: 'd'.repeat(64)}}

/** A seam fake of agentd's typed client: every route refuses unless the test provides it. */
export function fakeAgentd(overrides: Partial<Agentd> = {}): {agentd: Agentd; calls: {route: string; input: unknown}[]} {
  const calls: {route: string; input: unknown}[] = []
  const unexpected = (route: string) => () => Promise.reject(new Error(`unexpected call to ${route}`))
  const answer = <T,>(route: string, value: T) => (input?: unknown) => {
    calls.push({route, input})
    return Promise.resolve(structuredClone(value))
  }
  // Every route refuses by default (routes added later need no entry here); the common ones answer.
  const refusing = Object.fromEntries(Object.keys(agentdApi).map((route) => [route, unexpected(route)])) as unknown as Agentd
  const agentd: Agentd = {
    ...refusing,
    health: answer('health', HEALTH),
    systemQuery: answer('systemQuery', QUERY),
    systemDiscover: answer('systemDiscover', DISCOVER),
    eventsLog: answer('eventsLog', PAGE),
    receiptList: answer('receiptList', RECEIPTS),
    incidentCreate: answer('incidentCreate', INCIDENT),
    incidentStep: answer('incidentStep', INCIDENT),
    backupCreate: answer('backupCreate', BACKUP),
    backupList: answer('backupList', {backups: [BACKUP_INFO]}),
    memoryStore: answer('memoryStore', STORED),
    memoryRecall: answer('memoryRecall', RECALL),
    shellExec: answer('shellExec', EXEC_RESULT),
    sandboxExec: answer('sandboxExec', SANDBOX_RESULT),
    agentCardGet: answer('agentCardGet', CARD_BUNDLE),
    agentCardGenerate: answer('agentCardGenerate', CARD_BUNDLE),
    follow: async function* () {
      yield* []
      throw new Error('unexpected follow')
    },
    close: () => {},
    ...overrides,
  }
  return {agentd, calls}
}

/** A fake watch client: each route given in `overrides` answers, every other one rejects as unexpected. */
export function fakeWatch(overrides: Partial<Record<keyof WatchApi, (input?: unknown, options?: unknown) => Promise<unknown>>> = {}): RpcClient<WatchApi> {
  const client: Record<string, unknown> = {
    follow: async function* () {
      yield* []
      throw new Error('unexpected follow')
    },
    close: () => {},
  }
  for (const name of Object.keys(watchApi)) client[name] = overrides[name as keyof WatchApi] ?? (() => Promise.reject(new Error(`unexpected watch.${name}`)))
  return client as RpcClient<WatchApi>
}

/** A fake keyd client: each route given in `overrides` answers, every other one rejects as unexpected. */
export function fakeKeyd(overrides: Partial<Record<keyof KeydApi, (input?: unknown, options?: unknown) => Promise<unknown>>> = {}): RpcClient<KeydApi> {
  const client: Record<string, unknown> = {
    follow: async function* () {
      yield* []
      throw new Error('unexpected follow')
    },
    close: () => {},
  }
  for (const name of Object.keys(keydApi)) client[name] = overrides[name as keyof KeydApi] ?? (() => Promise.reject(new Error(`unexpected keyd.${name}`)))
  return client as RpcClient<KeydApi>
}

/** A real SDK Client connected to the server over the in-memory transport, with a fake recorder; clients not given are fakes that reject. */
export async function connect(options: Partial<Omit<OsmodaMcpServerOptions, 'clients'>> & {clients?: Partial<McpClients>} = {}) {
  const fake = fakeAgentd()
  const records: ToolCallRecord[] = []
  const recorder = {record: async (r: ToolCallRecord) => void records.push(r)}
  const {clients, ...rest} = options
  const server = createOsmodaMcpServer({role: 'agent', recorder, ...rest, clients: {agentd: fake.agentd, watch: fakeWatch(), keyd: fakeKeyd(), ...clients}})
  const client = new Client({name: 'osmoda-test', version: '0.0.0'})
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair()
  await Promise.all([server.connect(serverSide), client.connect(clientSide)])
  return {client, records, calls: fake.calls, close: () => client.close()}
}

export const text = (result: unknown) => (result as {content?: {text?: string}[]}).content?.[0]?.text ?? ''
