import {z} from 'zod'
import {AgentCardGenerateInput} from '../../../daemons/agentd/agent-card/api.js'
import {safetyStatusWithFallback} from '../../../daemons/agentd/safety/client.js'
import {resolvePaths} from '../../paths.js'
import {shellExecClientTimeoutMs} from '../../../daemons/agentd/exec/api.js'
import {agentdApi, BACKUP_CREATE_CLIENT_TIMEOUT_MS, sandboxClientTimeoutMs} from '../../../daemons/agentd/api.js'
import {defineTool, type AnyTool} from '../define-tool.js'
import {APPROVAL_TOOLS} from './approvals.js'

const READ_ONLY = {readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false} as const
// Recording work: not read-only, destroys nothing, and a repeat adds another record.
const RECORD = {readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false} as const

// Acts that change the host for good and are not safe to repeat blindly (SPEC §3 "D").
const DESTRUCTIVE = {readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false} as const

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

/** service_status: a systemd unit's state, or every service unit, from agentd GET /service/status. */
export const serviceStatus = defineTool({
  name: 'service_status',
  title: 'Service status',
  description:
    'Reads systemd service state. With `unit` ("nginx" or "nginx.service"): description, load/active/sub state, enabled, main pid, ' +
    'memory bytes, active_since, restart count and the unit\'s last 10 journal entries (NOT_FOUND for an unknown unit). Without ' +
    '`unit`: `units[{unit, load_state, active_state, sub_state, description}]` for every loaded service (up to `limit`, default 200). ' +
    'Hosts without systemd as PID 1 (containers, CI) answer SYSTEMD_UNAVAILABLE: use system_query "processes"/"ports" there. Changes nothing.',
  toolset: 'agentd',
  route: agentdApi.serviceStatus,
  annotations: READ_ONLY,
  summarize: (s) => {
    if (s.units) return `${s.units.length} service units; ${s.units.filter((u) => u.active_state === 'failed').length} failed`
    return `${s.unit}: ${s.active_state}/${s.sub_state}${s.main_pid ? ` pid ${s.main_pid}` : ''}${s.n_restarts ? `, ${s.n_restarts} restarts` : ''}`
  },
  run: (clients, args) => clients.agentd.serviceStatus(args),
})

/** journal_logs: systemd journal entries from agentd GET /journal/logs. */
export const journalLogs = defineTool({
  name: 'journal_logs',
  title: 'Read the system journal',
  description:
    'Reads the newest systemd journal entries (oldest first in the answer): `entries[{ts, unit, priority, identifier, pid, message}]` ' +
    'and `truncated` when older matches were left out. Filter by `unit`, `priority` (that level or worse: emerg, alert, crit, err, ' +
    'warning, notice, info, debug), `since`/`until` (30m, 24h, 7d or an RFC 3339 instant) and `grep` (a regular expression on the ' +
    'message); `lines` 1..1000 (default 50). Messages are cut at 4096 characters. Hosts without a journal answer SYSTEMD_UNAVAILABLE: ' +
    'read files under /var/log with file_read there. Changes nothing.',
  toolset: 'agentd',
  route: agentdApi.journalLogs,
  annotations: READ_ONLY,
  summarize: (j) => {
    const last = j.entries[j.entries.length - 1]
    return `${j.entries.length} entries${j.truncated ? ' (older ones left out)' : ''}${last ? `; newest ${last.ts} ${last.identifier ?? last.unit ?? ''}: ${last.message.slice(0, 120)}` : ''}`
  },
  run: (clients, args) => clients.agentd.journalLogs(args),
})

/** network_info: interfaces, ports, connections, routes and DNS from agentd GET /network/info. */
export const networkInfo = defineTool({
  name: 'network_info',
  title: 'Network information',
  description:
    'Reads this host\'s network state; `detail` picks one section or "all" (default): interfaces (name, state, mac, mtu, CIDR ' +
    'addresses), ports (listening TCP/UDP with owning pid/process), connections (up to 200, established first), routes (dst, gateway, ' +
    'dev, metric; "default" for the default route) and dns (name servers and search domains). Use it to diagnose connectivity or see ' +
    'what is exposed. Changes nothing.',
  toolset: 'agentd',
  route: agentdApi.networkInfo,
  annotations: READ_ONLY,
  summarize: (n) => {
    const parts: string[] = []
    if (n.interfaces) parts.push(`${n.interfaces.length} interfaces (${n.interfaces.map((i) => `${i.name} ${i.state}`).slice(0, 6).join(', ')})`)
    if (n.ports) parts.push(`${n.ports.length} listening ports`)
    if (n.connections) parts.push(`${n.connections.length} connections`)
    if (n.routes) parts.push(`${n.routes.length} routes${n.routes.some((r) => r.dst === 'default') ? ' incl. default' : ', no default'}`)
    if (n.dns) parts.push(`dns ${n.dns.servers.join(' ') || 'none'}`)
    return parts.join('; ')
  },
  run: (clients, args) => clients.agentd.networkInfo(args),
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

/** agentd's tools in catalogue order. */
/** file_read: a window of lines of one file from agentd POST /file/read. */
export const fileRead = defineTool({
  name: 'file_read',
  title: 'Read a file',
  description:
    'Reads a file on this server, up to 500 lines at a time (max_lines 1..2000, starting at offset_line, 1-based). Returns ' +
    '`{content, first_line, lines_returned, total_lines, truncated, size, mtime, resolved_path}`; each line keeps its newline, ' +
    'and when truncated is true call again with offset_line = first_line + lines_returned. Text only by default: a binary file ' +
    'is refused (VALIDATION_FAILED), read it with encoding "base64". Only paths under the operator\'s read roots (e.g. /etc, ' +
    '/var/log, /srv, /home, /tmp, /workspace) are allowed; secrets such as /etc/shadow, SSH keys, osmoda tokens and the ledger ' +
    'are refused with PATH_DENIED, as are symlinks that lead there. Files over the read limit (10 MiB by default) answer ' +
    'PAYLOAD_TOO_LARGE. It changes nothing.',
  toolset: 'agentd',
  route: agentdApi.fileRead,
  annotations: READ_ONLY,
  summarize: (r) => {
    const span = r.lines_returned ? `lines ${r.first_line}-${r.first_line + r.lines_returned - 1}` : 'no lines'
    return `${r.path}: ${span} of ${r.total_lines} (${r.size} bytes)${r.truncated ? `; more from offset_line ${r.first_line + r.lines_returned}` : ''}`
  },
  run: (clients, args) => clients.agentd.fileRead(args),
})

/** file_write: writes a file through agentd POST /file/write. */
export const fileWrite = defineTool({
  name: 'file_write',
  title: 'Write a file',
  description:
    'Writes a file on this server: replaces it atomically (readers see the old or the new content, never half), or with ' +
    'append: true adds to its end. `content` is UTF-8 text, or bytes in base64 with encoding "base64" (at most 1000000 bytes). ' +
    'An existing file keeps its owner and mode unless you pass `mode` (octal, e.g. "0600"); a new file gets mode 0644 and its ' +
    'directory\'s owner; create_dirs: true creates missing directories. Returns `{path, bytes, sha256, created, mode}` and ' +
    'records a file.written receipt. Only paths under the operator\'s write roots are allowed (e.g. /tmp, /workspace, /srv; ' +
    'others answer PATH_DENIED). Some roots (e.g. /etc, /etc/nixos, /home) need the operator\'s approval: the first call answers ' +
    'APPROVAL_REQUIRED with an approval_id; ask the operator to approve it, then repeat the exact same call with approval_id. ' +
    'Read the file first and write the whole intended content: this overwrites.',
  toolset: 'agentd',
  route: agentdApi.fileWrite,
  annotations: {readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false},
  summarize: (w) => `${w.created ? 'created' : 'wrote'} ${w.path}: ${w.bytes} bytes, mode ${w.mode}, sha256 ${w.sha256.slice(0, 12)}`,
  run: (clients, args) => clients.agentd.fileWrite(args),
})

/** directory_list: the entries of a directory from agentd POST /file/list. */
export const directoryList = defineTool({
  name: 'directory_list',
  title: 'List a directory',
  description:
    'Lists a directory on this server: each entry has name, full path, type (file, dir, symlink, other), size in bytes, mode ' +
    '(octal), mtime and, for symlinks, their target (symlinks are shown, never followed). recursive: true walks subdirectories ' +
    'breadth first down to max_depth (default 3, at most 10); include_hidden: false skips dot files; at most `limit` entries ' +
    '(default 500, at most 5000) with truncated: true when more exist. Only paths under the read roots are allowed; entries ' +
    'on the deny list (secrets, tokens, the ledger) are left out. It changes nothing.',
  toolset: 'agentd',
  route: agentdApi.fileList,
  annotations: READ_ONLY,
  summarize: (l) => {
    const count = (type: string) => l.entries.filter((e) => e.type === type).length
    return `${l.path}: ${l.entries.length} entries (${count('dir')} dirs, ${count('file')} files, ${count('symlink')} symlinks)${l.truncated ? '; truncated, raise limit or narrow the path' : ''}`
  },
  run: (clients, args) => clients.agentd.fileList(args),
})

/** safety_rollback: roll NixOS back to the previous generation via agentd POST /safety/rollback. */
export const safetyRollback = defineTool({
  name: 'safety_rollback',
  title: 'Roll back NixOS (emergency)',
  description:
    'Emergency rollback: switches this NixOS host to the newest system generation older than the current one (by its number; ' +
    'deleted generations leave gaps) and activates it, independent of SafeSwitch. Returns 202 `{from_generation, to_generation, unit}` ' +
    'at once; the outcome lands in the ledger as safety.rolled_back. Always needs the operator\'s approval: the first call answers ' +
    'APPROVAL_REQUIRED, repeat it with `approval_id` once approved. NIX_UNAVAILABLE off NixOS, CONFLICT when there is no older ' +
    'generation. It reverts system configuration only, never data. Prefer safe_switch_begin for planned changes.',
  toolset: 'agentd',
  route: agentdApi.safetyRollback,
  annotations: DESTRUCTIVE,
  summarize: (r) => `rolling back from generation ${r.from_generation} to ${r.to_generation}${r.unit ? ` in ${r.unit}` : ''}`,
  run: (clients, args) => clients.agentd.safetyRollback(args),
})

/** safety_status: the safety overview from agentd GET /safety/status, read locally when agentd is down. */
export const safetyStatus = defineTool({
  name: 'safety_status',
  title: 'Safety status',
  description:
    'One-call safety overview: health (status, load, memory, disks), the state of every osmoda service, NixOS generations (current, ' +
    'previous = where safety_rollback goes, booted; null off NixOS), the ledger size and integrity state, and pending approvals. ' +
    'Works even when agentd is down: then `source` is "local", facts are read on the host directly, `listening_ports` is added and ' +
    'ledger/pending_approvals are null. Changes nothing.',
  toolset: 'agentd',
  route: agentdApi.safetyStatus,
  annotations: READ_ONLY,
  summarize: (s) => {
    const down = Object.entries(s.services).filter(([, state]) => state !== 'active').map(([name]) => name)
    const gen = s.generation ? `generation ${s.generation.current ?? '?'} (previous ${s.generation.previous ?? 'none'})` : 'no Nix generations'
    return `${s.source === 'local' ? 'agentd UNREACHABLE, local facts: ' : ''}health ${s.health.status}; ${down.length ? `not active: ${down.join(', ')}` : 'all osmoda services active'}; ${gen}${s.pending_approvals === null ? '' : `; ${s.pending_approvals} pending approvals`}`
  },
  run: (clients) => safetyStatusWithFallback(clients.agentd, {runDir: resolvePaths().runDir}),
})

/** safety_panic: stop every osmoda service but agentd (gateway last), then roll back, via agentd POST /safety/panic. */
export const safetyPanic = defineTool({
  name: 'safety_panic',
  title: 'Panic stop (emergency)',
  description:
    'Emergency stop: stops routines, watch, teachd, mcpd, voice, mesh, keyd and egress, then the gateway last (agentd stays up), then ' +
    'rolls NixOS back to the previous generation unless `rollback` is false. Answers 202 `{stopping, rollback}` before anything ' +
    'stops; your own session ends when the gateway stops. Always needs the operator\'s approval (APPROVAL_REQUIRED first, then repeat ' +
    'with `approval_id`). Only for a compromised or runaway system; SYSTEMD_UNAVAILABLE where systemd is not PID 1.',
  toolset: 'agentd',
  route: agentdApi.safetyPanic,
  annotations: DESTRUCTIVE,
  summarize: (p) => `panic: stopping ${p.stopping.length} units (gateway last)${p.rollback ? ', then rolling back' : ''}`,
  run: (clients, args) => clients.agentd.safetyPanic(args),
})

/** safety_restart: restart the gateway after 2 s via agentd POST /safety/restart. */
export const safetyRestart = defineTool({
  name: 'safety_restart',
  title: 'Restart the gateway',
  description:
    'Restarts osmoda-gateway (which runs you) 2 seconds after answering 202 `{unit, delay_secs}`, from a transient systemd timer, so ' +
    'the answer reaches you first. Use it when the gateway or your runtime is wedged; your session reconnects after the restart. ' +
    'No approval needed. SYSTEMD_UNAVAILABLE where systemd is not PID 1.',
  toolset: 'agentd',
  route: agentdApi.safetyRestart,
  annotations: DESTRUCTIVE,
  summarize: (r) => `${r.unit} restarts in ${r.delay_secs} s`,
  run: (clients) => clients.agentd.safetyRestart(),
})

/** shell_exec: a command in agentd's read-only sandbox, or approved on the host, via POST /shell/exec. */
export const shellExec = defineTool({
  name: 'shell_exec',
  title: 'Run a command',
  description:
    'Runs one command and returns `{mode, argv, exit_code, signal, stdout, stderr, stdout_truncated, stderr_truncated, timed_out, ' +
    'duration_ms, hint?}`. Give `command` (split into words like a shell would, but pipes, redirections, ;, &&, $(), backticks, ' +
    '$VAR and newlines are refused unless `shell: true`, which runs /bin/sh -c) or `argv` (a list, run exactly as given). ' +
    'mode "sandbox" (default, no approval needed): a read-only view of the host with no network, secrets and osmoda state ' +
    'hidden, an empty private /tmp; use it to inspect (ls, cat, df, nix path-info, systemctl cat, grep). Writes fail with ' +
    '"Read-only file system". mode "host": runs as root on the host and always needs the operator\'s approval: the first call ' +
    'answers APPROVAL_REQUIRED with an approval id; once the operator approves, repeat the identical call plus `approval_id`. ' +
    'Prefer typed tools (service_status, journal_logs, file_write, …) when one fits. Deadline `timeout_secs` (default 30, max ' +
    '120; up to 1800 in host mode with an approval) kills the whole process group; output is capped per stream by ' +
    '`max_output_bytes`. Calls are rate limited per agent (RATE_LIMITED with retry_after_secs).',
  toolset: 'agentd',
  route: agentdApi.shellExec,
  annotations: {readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true},
  summarize: (r) => {
    const how = r.timed_out ? 'timed out' : r.exit_code === null ? `killed by ${r.signal ?? 'a signal'}` : `exit ${r.exit_code}`
    const cut = r.stdout_truncated || r.stderr_truncated ? ', output truncated' : ''
    const note = r.warning ? ` WARNING: ${r.warning}` : r.hint ? ` (${r.hint})` : ''
    return `${r.mode}: ${how} after ${r.duration_ms} ms, ${Buffer.byteLength(r.stdout)} bytes stdout, ${Buffer.byteLength(r.stderr)} bytes stderr${cut}${note}`
  },
  run: (clients, args) => clients.agentd.shellExec(args, {timeoutMs: shellExecClientTimeoutMs(args.timeout_secs)}),
})

/** sandbox_exec: runs a command in a bubblewrap sandbox through agentd POST /sandbox/exec. */
export const sandboxExec = defineTool({
  name: 'sandbox_exec',
  title: 'Run in a sandbox',
  description:
    'Runs a command in a throwaway bubblewrap sandbox as an unprivileged user and returns `{exit_code, stdout, stderr, timed_out, ' +
    'duration_ms, …}`. Give `argv` (no shell) or `command` (run by /bin/sh -c inside the sandbox). Tier 2 (default) is for untrusted ' +
    'code: no network, no host files, no host processes, only an empty private /tmp (also HOME and the default cwd); the system\'s ' +
    'programs and libraries are visible read-only. Tier 1 needs `capability`, a token from capability_mint: its fs:read paths are ' +
    'mounted read-only and fs:write paths writable at the same place, and with net: entries HTTPS works through the egress proxy ' +
    '(HTTPS_PROXY is set) to exactly the granted hosts. `stdin` (≤64 KiB) is fed to the command; `timeout_secs` defaults to 60. ' +
    'Nothing it does outside granted paths survives the run. An invalid, expired or revoked token is POLICY_DENIED.',
  toolset: 'agentd',
  route: agentdApi.sandboxExec,
  annotations: {readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true},
  summarize: (r) => {
    const how = r.timed_out ? 'timed out' : r.exit_code === null ? `killed (${r.signal})` : `exit ${r.exit_code}`
    const out = r.stdout.trim().split('\n').slice(-1)[0] ?? ''
    return `tier ${r.tier} ${how} in ${r.duration_ms} ms${out ? `; last line: ${out.slice(0, 160)}` : ''}`
  },
  run: (clients, args) => clients.agentd.sandboxExec(args, {timeoutMs: sandboxClientTimeoutMs(args.timeout_secs)}),
})

/** capability_mint: a signed capability token for a sandbox or egress client, from agentd POST /capability/mint. */
export const capabilityMint = defineTool({
  name: 'capability_mint',
  title: 'Mint a capability token',
  description:
    'Mints a signed, expiring capability token (osmcap1…) that grants a tier-1 sandbox (sandbox_exec `capability`) or an egress client ' +
    'exactly the listed permissions: "net:host[:port]" (exact host or *.suffix, port default 443) through the egress proxy, ' +
    '"fs:read:/path" / "fs:write:/path" bind mounts. Grant the least you need and the shortest ttl_secs (default 900). Hosts inside ' +
    'the egress allowlist and paths under the sandbox roots (/srv, /workspace, …) are granted at once; anything else answers ' +
    'APPROVAL_REQUIRED: ask the operator to approve, then repeat the same call with approval_id. Returns `{id, token, granted_to, ' +
    'permissions, issued_at, expires_at}`; the token is shown only here, and the operator can revoke it by id.',
  toolset: 'agentd',
  route: agentdApi.capabilityMint,
  annotations: {readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false},
  summarize: (c) => `minted ${c.id} for ${c.granted_to} (${c.permissions.length} permission${c.permissions.length === 1 ? '' : 's'}), expires ${c.expires_at}`,
  run: (clients, args) => clients.agentd.capabilityMint(args),
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
