import {agentdApi} from '../../../daemons/agentd/api.js'
import {defineTool, type AnyTool} from '../define-tool.js'

const READ_ONLY = {readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false} as const

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

/** agentd's tools in catalogue order. */
export const AGENTD_TOOLS: readonly AnyTool[] = [systemHealth, systemQuery, systemDiscover, eventLog, memoryStore, memoryRecall]
