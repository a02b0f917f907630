// agentd's host tools: services, journal, network and the safety commands.
import {safetyStatusWithFallback} from '../../../daemons/agentd/safety/client.js'
import {agentdApi} from '../../../daemons/agentd/api.js'
import {resolvePaths} from '../../paths.js'
import {defineTool} from '../define-tool.js'
import {DESTRUCTIVE, READ_ONLY} from './annotations.js'

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
