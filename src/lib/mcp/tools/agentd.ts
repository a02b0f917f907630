import {z} from 'zod'
import {AgentCardGenerateInput} from '../../../daemons/agentd/agent-card/api.js'
import {agentdApi, BACKUP_CREATE_CLIENT_TIMEOUT_MS} from '../../../daemons/agentd/api.js'
import {defineTool, type AnyTool} from '../define-tool.js'
import {APPROVAL_TOOLS} from './approvals.js'
import {READ_ONLY, RECORD} from './annotations.js'
import {capabilityMint, directoryList, fileRead, fileWrite, sandboxExec, shellExec} from './agentd-hands.js'
import {journalLogs, networkInfo, safetyPanic, safetyRestart, safetyRollback, safetyStatus, serviceStatus} from './agentd-host.js'


const GIB = 1024 ** 3
const gib = (bytes: number): string => `${(bytes / GIB).toFixed(1)} GiB`

/** system_health: the host's vital signs from agentd GET /health. */
export const systemHealth = defineTool({
  name: 'system_health',
  title: 'System health',
  description:
    'Snapshot of this server\'s health: overall status (ok/degraded/starting) with any problems, hostname, CPU count and per-core busy %, ' +
    'load averages, memory and swap (bytes), uptime, every mounted disk (total/used/available bytes), the audit ledger (size, integrity ' +
    'check state) and whether the sandbox and Nix are available. Start any diagnosis here; it is cheap and changes nothing.',
  toolset: 'agentd',
  route: agentdApi.health,
  annotations: READ_ONLY,
  summarize: (h) => {
    const cpu = h.cpu_usage.length ? `${Math.round(h.cpu_usage.reduce((a, b) => a + b, 0) / h.cpu_usage.length)}% cpu` : 'cpu sampling'
    const fullest = [...h.disks].sort((a, b) => b.used / (b.total || 1) - a.used / (a.total || 1))[0]
    const disk = fullest ? `, ${fullest.mount_point} ${Math.round((100 * fullest.used) / (fullest.total || 1))}% full` : ''
    const problems = h.problems?.length ? ` (${h.problems.join('; ')})` : ''
    return `${h.hostname}: ${h.status}${problems}; ${cpu} of ${h.cpu_count} cores, load ${h.load_average.one.toFixed(2)}, memory ${gib(h.memory_used)}/${gib(h.memory_total)}${disk}; ledger ${h.ledger.size} events (${h.ledger.verify_state})`
  },
  run: (clients) => clients.agentd.health(),
})

/** system_query: one kind of host fact from agentd POST /system/query. */
export const systemQuery = defineTool({
  name: 'system_query',
  title: 'Query host facts',
  description:
    'Reads one kind of fact about this host and returns `{query, result}`. `query` is one of: processes (pid, ppid, name, user, ' +
    'cpu_usage, memory bytes, status, start_time, command; args: sort "cpu"|"memory" (default cpu), limit 1..500 (default 50), name ' +
    'substring filter), disk (mounts with total/used/available bytes), hostname, uptime (uptime_secs, boot_time), services (systemd ' +
    'units; args: state "running"|"failed"|"all" (default running), limit 1..1000), ports (listening sockets with owning pid/process), ' +
    'connections (established sockets; args: limit 1..2000), generations (NixOS generations, [] without Nix). Use it to drill down ' +
    'after system_health; it changes nothing.',
  toolset: 'agentd',
  route: agentdApi.systemQuery,
  annotations: READ_ONLY,
  summarize: (answer) => {
    const result = answer.result as unknown
    if (Array.isArray(result)) return `${answer.query}: ${result.length} ${result.length === 1 ? 'entry' : 'entries'}`
    if (result && typeof result === 'object') return `${answer.query}: ${JSON.stringify(result).slice(0, 200)}`
    return `${answer.query}: ${String(result)}`
  },
  run: (clients, args) => clients.agentd.systemQuery(args),
})

/** system_discover: listening services found by agentd GET /system/discover. */
export const systemDiscover = defineTool({
  name: 'system_discover',
  title: 'Discover running services',
  description:
    'Finds the services listening on this host: for each, name, pid, port, protocol, what it looks like (e.g. http, postgres, redis), ' +
    'a health URL when one is known, its systemd unit, memory and CPU use; plus totals of listening ports and systemd services. Use it ' +
    'to learn what runs here before inspecting or changing anything; it changes nothing.',
  toolset: 'agentd',
  route: agentdApi.systemDiscover,
  annotations: READ_ONLY,
  summarize: (d) => {
    const names = d.found.slice(0, 8).map((s) => `${s.name}:${s.port}`)
    const more = d.found.length > names.length ? ` and ${d.found.length - names.length} more` : ''
    return `${d.found.length} services on ${d.total_listening_ports} listening ports (systemd ${d.systemd})${names.length ? `: ${names.join(', ')}${more}` : ''}`
  },
  run: (clients) => clients.agentd.systemDiscover(),
})

/** event_log: a page of the hash-chained audit ledger from agentd GET /events/log. */
export const eventLog = defineTool({
  name: 'event_log',
  title: 'Read the audit ledger',
  description:
    'Pages through the audit ledger, where every daemon action and every tool call (including yours, as tool.called) is recorded. ' +
    'Returns `{events, next_cursor}`, newest first unless `after` is given; each event has seq, ts, type (domain.event), actor ' +
    '(a daemon, agent:<id> or operator:<user>), payload and its hash-chain fields. Filter by exact type ("switch.rolled_back") or ' +
    'prefix ("approval.*") and by actor; pass next_cursor as `before` for older events. Use it to answer "what happened and who did it".',
  toolset: 'agentd',
  route: agentdApi.eventsLog,
  // The NDJSON follow stream and the sort order are for the CLI and TUI, not for a request/response tool.
  input: agentdApi.eventsLog.input.omit({order: true, follow: true}),
  annotations: READ_ONLY,
  summarize: (page) => {
    const first = page.events[0]
    const last = page.events[page.events.length - 1]
    const span = first && last ? ` (seq ${first.seq}..${last.seq})` : ''
    return `${page.events.length} events${span}${page.next_cursor === null ? '' : `; more with cursor ${page.next_cursor}`}`
  },
  run: (clients, args) => clients.agentd.eventsLog(args),
})

/** receipt_list: proof-carrying receipts of the changes made on this host, from agentd GET /receipts. */
export const receiptList = defineTool({
  name: 'receipt_list',
  title: 'List change receipts',
  description:
    'Lists receipts of the changes made on this host (commands run on the host, files written, switches, apps, routines, watchers, ' +
    'wallets, approvals, capabilities, backups, mesh peers, safety actions), newest first: `{receipts, next_cursor}`. Each receipt has ' +
    'id (rcpt_<seq>), receipt_type, actor, a one-line summary, the recorded detail, timestamp, and the ledger seq and hash that prove it ' +
    'against a signed checkpoint; `reversible` with `undo_action` gives the osmoda CLI line that undoes it (wallet actions never can be ' +
    'undone). Filter by type ("file.written", "switch.*" or a bare domain "app"), actor, and since (a duration such as 24h or 7d, or ' +
    'an RFC 3339 instant); pass next_cursor as `cursor` for older ones. Use it for "what changed", and cite a receipt id in incident_step.',
  toolset: 'agentd',
  route: agentdApi.receiptList,
  annotations: READ_ONLY,
  summarize: (page) => {
    const kinds = [...new Set(page.receipts.map((r) => r.receipt_type))].slice(0, 5)
    const more = page.next_cursor === null ? '' : `; more with cursor ${page.next_cursor}`
    return `${page.receipts.length} receipts${kinds.length ? ` (${kinds.join(', ')})` : ''}${more}`
  },
  run: (clients, args) => clients.agentd.receiptList(args),
})

/** incident_create: opens an incident in agentd POST /incident/create. */
export const incidentCreate = defineTool({
  name: 'incident_create',
  title: 'Open an incident',
  description:
    'Opens an incident to work a problem step by step and leave an auditable record of it: give a short name, a severity (low, ' +
    'medium, high, critical; default medium) and a summary of what was observed. Returns the incident with its id (inc_…), status ' +
    'open and no steps. Then record each check or fix with incident_step, and resolve it with a last step that sets resolve: true. ' +
    'Each call opens a new incident: do not repeat it for the same problem.',
  toolset: 'agentd',
  route: agentdApi.incidentCreate,
  annotations: RECORD,
  summarize: (incident) => `opened ${incident.id} (${incident.severity}): ${incident.name}`,
  run: (clients, args) => clients.agentd.incidentCreate(args),
})

/** incident_step: adds a numbered step to an incident in agentd POST /incident/{id}/step. */
export const incidentStep = defineTool({
  name: 'incident_step',
  title: 'Record an incident step',
  description:
    'Adds the next numbered step to an open incident: `action` is what you did or checked, `result` what came of it. Cite the ' +
    'ledger receipt that proves the action as receipt_id (rcpt_<seq>, from receipt_list or event_log) when there is one. Set ' +
    'resolve: true on the step that fixes the problem; a resolved incident takes no more steps (CONFLICT). Returns the whole ' +
    'incident with all its steps. Each call adds a step: do not repeat it after a success.',
  toolset: 'agentd',
  route: agentdApi.incidentStep,
  annotations: RECORD,
  summarize: (incident) => {
    const last = incident.steps[incident.steps.length - 1]
    return `${incident.id}: step ${last?.step_number ?? 0} recorded${incident.status === 'resolved' ? '; incident resolved' : ''}`
  },
  run: (clients, args) => clients.agentd.incidentStep(args),
})

const mib = (bytes: number): string => `${(bytes / 1024 ** 2).toFixed(1)} MiB`

/** backup_create: a consistent backup of osmoda's state from agentd POST /backup/create. */
export const backupCreate = defineTool({
  name: 'backup_create',
  title: 'Back up osmoda state',
  description:
    'Makes a consistent backup of osmoda\'s own state on this server: the audit ledger, every daemon database, memories, generated ' +
    'skills and operator policies, as one compressed archive with a manifest of SHA-256 sums. Tokens, node identity keys and key-' +
    'encryption keys are never included. Returns the backup id, archive path, size, sha256 and the archived ledger head. Old backups ' +
    'are pruned per retention. Use it before risky changes or when an incident needs a snapshot; only one backup runs at a time ' +
    '(CONFLICT while another runs). Restoring is an offline operator action (`osmoda backup restore`), not a tool.',
  toolset: 'agentd',
  route: agentdApi.backupCreate,
  annotations: {readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false},
  summarize: (b) => `backup ${b.id}: ${mib(b.size_bytes)}, ${b.manifest.files} files, ledger at ${b.manifest.ledger_size} events`,
  run: (clients, args) => clients.agentd.backupCreate(args, {timeoutMs: BACKUP_CREATE_CLIENT_TIMEOUT_MS}),
})

/** backup_list: the backups on this server from agentd GET /backup/list. */
export const backupList = defineTool({
  name: 'backup_list',
  title: 'List backups',
  description:
    'Lists the backups kept on this server, newest first: id (bak_<ULID>), archive path, size in bytes, sha256, created_at and the ' +
    'note given when it was made. Use it to check that recent backups exist before a risky change or in a daily briefing; it ' +
    'changes nothing.',
  toolset: 'agentd',
  route: agentdApi.backupList,
  annotations: READ_ONLY,
  summarize: (l) => {
    const newest = l.backups[0]
    return `${l.backups.length} backup${l.backups.length === 1 ? '' : 's'}${newest ? `; newest ${newest.id} at ${newest.created_at} (${mib(newest.size_bytes)})` : ''}`
  },
  run: (clients, args) => clients.agentd.backupList(args),
})

/** memory_store: writes a memory through agentd POST /memory/store. */
export const memoryStore = defineTool({
  name: 'memory_store',
  title: 'Remember something',
  description:
    'Saves a memory that you (or another agent session) can find later with memory_recall: a diagnosis, the fix that worked, ' +
    'an operator preference, what a service is for. `summary` (required, ≤2000 chars) is what future searches match most ' +
    'strongly, so name the unit, host, symptom and outcome; put commands, error text and reasoning in `detail` (≤64000). ' +
    '`category` is a lowercase word such as incident, fix, diagnosis, preference (default general); `tags` (≤32) are short ' +
    'labels used as filters. Returns `{id, seq, path}`: the memory id, its ledger seq and its markdown file. Never store ' +
    'secrets (passwords, tokens, keys): memories are plain files the operator and other agents can read.',
  toolset: 'agentd',
  route: agentdApi.memoryStore,
  annotations: {readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false},
  summarize: (r) => `stored ${r.id} (ledger seq ${r.seq})`,
  run: (clients, args) => clients.agentd.memoryStore(args),
})

/** memory_recall: full-text search over memories through agentd POST /memory/recall. */
export const memoryRecall = defineTool({
  name: 'memory_recall',
  title: 'Recall memories',
  description:
    'Searches stored memories (yours, other sessions\' and events other daemons recorded) before you diagnose or change ' +
    'anything: has this happened before, what fixed it, what does the operator prefer? `query` takes words (stemmed, so ' +
    '"restarting" finds "restarted"), "exact phrases" and prefix* terms; any term may match and the best matches come first ' +
    '(summary counts most, then tags, then detail). Narrow with `timeframe` ("24h", "7d", an RFC 3339 instant, or "2026-11"), ' +
    '`category` and `tags` (all must match). Returns `{memories[{id, ts, category, summary, detail, tags, relevance, …}], ' +
    'total_matches, truncated}`; relevance is 1 for the best match. It changes nothing.',
  toolset: 'agentd',
  route: agentdApi.memoryRecall,
  annotations: READ_ONLY,
  summarize: (r) => {
    if (!r.memories.length) return `no memories match ${JSON.stringify(r.query)}`
    const top = r.memories.slice(0, 3).map((m) => `${m.id}: ${m.summary.length > 80 ? `${m.summary.slice(0, 77)}...` : m.summary}`)
    return `${r.memories.length} of ${r.total_matches} memories; best: ${top.join(' | ')}`
  },
  run: (clients, args) => clients.agentd.memoryRecall(args),
})

const AgentCardToolInput = AgentCardGenerateInput.extend({
  action: z.enum(['get', 'generate']).default('get').describe('get: read the current card (default); generate: build, sign and publish a new one (needs operator approval)'),
}).refine((args) => args.action === 'generate' || Object.keys(args).every((key) => key === 'action'), {
  message: 'name, description, services and approval_id go with action "generate" only',
})

/** agent_card: this agent's signed A2A card and ERC-8004 registration, from agentd GET /agent/card or POST /agent/card/generate. */
export const agentCard = defineTool({
  name: 'agent_card',
  title: 'Agent card',
  description:
    'This server\'s public identity for other agents. action "get" (default) returns `{card, registration}`: `card` is the A2A v1.0 ' +
    'agent card the gateway publishes at /.well-known/agent-card.json (name, description, interface URL, skills of the daemons that ' +
    'run here, bearer auth), signed as a JWS (EdDSA) with the node key; `registration` is the ERC-8004 registration file (services ' +
    'such as mcp, a2a, safeswitch, wallet). action "generate" rebuilds, signs and publishes the card with an optional new `name` ' +
    '(1..100), `description` (≤1000) and `services` (≤16 `{name, endpoint, version}`, replacing the defaults); it needs the ' +
    'operator\'s approval: on APPROVAL_REQUIRED ask the operator, then repeat the call with `approval_id`.',
  toolset: 'agentd',
  route: agentdApi.agentCardGenerate,
  input: AgentCardToolInput,
  annotations: {readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false},
  summarize: (b) => `agent card "${b.card.name}" v${b.card.version}: ${b.card.skills.length} skills (${b.card.skills.map((s) => s.id).join(', ')}); services ${b.registration.services.map((s) => s.name).join(', ')}`,
  run: (clients, {action, ...args}) => (action === 'generate' ? clients.agentd.agentCardGenerate(args) : clients.agentd.agentCardGet()),
  target: ({action, ...args}) => (action === 'generate' ? {route: agentdApi.agentCardGenerate, input: args} : {route: agentdApi.agentCardGet, input: {}}),
})

/** agentd's tools in SPEC §3 order. */
export const AGENTD_TOOLS: readonly AnyTool[] = [
  systemHealth,
  systemQuery,
  systemDiscover,
  eventLog,
  shellExec,
  fileRead,
  fileWrite,
  directoryList,
  serviceStatus,
  journalLogs,
  memoryStore,
  memoryRecall,
  networkInfo,
  agentCard,
  receiptList,
  incidentCreate,
  incidentStep,
  backupCreate,
  backupList,
  safetyRollback,
  safetyStatus,
  safetyPanic,
  safetyRestart,
  ...APPROVAL_TOOLS,
  sandboxExec,
  capabilityMint,
]
