import {routinesApi, type RoutinesApi} from '../../../daemons/routines/api.js'
import {BugError} from '../../errors.js'
import type {RpcClient} from '../../rpc/client.js'
import {defineTool, type AnyTool, type McpClients} from '../define-tool.js'

/** Client deadline of routine_trigger with wait: the longest action deadline plus 5 s (SPEC §1.3). */
export const ROUTINE_TRIGGER_CLIENT_TIMEOUT_MS = 605_000

const READ_ONLY = {readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false} as const

function routines(clients: McpClients): RpcClient<RoutinesApi> {
  if (!clients.routines) throw new BugError('this MCP server was started without a routines client')
  return clients.routines
}

/** routine_add: schedule background work (POST /routine/add). */
export const routineAdd = defineTool({
  name: 'routine_add',
  title: 'Add a routine',
  description:
    'Schedules background work that runs between conversations, with its history kept. `trigger`: {type:"cron", expression:"m h dom mon ' +
    'dow", timezone:"UTC"} (standard 5 fields), {type:"interval", seconds ≥ 10}, {type:"event", event_type:"switch.rolled_back" or ' +
    '"switch.*", match?:{actor?, payload?:{key: value}}, debounce_secs=60} (fires on ledger events) or {type:"webhook"} (the secret is ' +
    'returned once). `action`: health_check {thresholds?}, service_monitor {units}, log_scan {priority="err"}, memory_maintenance, ' +
    'generation_check, network_watch {expected_ports?}, command {command: absolute path, args, timeout_secs} (argv, no shell, runs as ' +
    'root), webhook {url, method, body?, headers?} (header values are write-only). command and webhook actions need the operator\'s ' +
    'approval: on APPROVAL_REQUIRED ask the operator, then repeat the same call with approval_id. agent_prompt is not available yet.',
  toolset: 'routines',
  route: routinesApi.routineAdd,
  annotations: {readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false},
  summarize: (r) => `${r.id} "${r.name}" added (${String(r.trigger.type)} → ${String(r.action.type)})${r.next_run_at ? `, next run ${r.next_run_at}` : ''}`,
  run: (clients, args) => routines(clients).routineAdd(args),
})

/** routine_list: the routines and their last run (GET /routine/list). */
export const routineList = defineTool({
  name: 'routine_list',
  title: 'List routines',
  description:
    'Lists the routines (the six defaults default-health, default-services, default-logscan, default-memory, default-generation, ' +
    'default-network, plus added ones) with trigger, action, enabled, last_run_at, last_status, run_count and next_run_at. `enabled` ' +
    'filters. It changes nothing.',
  toolset: 'routines',
  route: routinesApi.routineList,
  annotations: READ_ONLY,
  summarize: (r) => `${r.routines.length} routines: ${r.routines.slice(0, 10).map((x) => `${x.id} ${x.enabled ? x.last_status ?? 'not run' : 'disabled'}`).join(', ')}`,
  run: (clients, args) => routines(clients).routineList(args),
})

/** routine_trigger: run a routine now (POST /routine/{id}/trigger). */
export const routineTrigger = defineTool({
  name: 'routine_trigger',
  title: 'Run a routine now',
  description:
    'Runs a routine now, outside its schedule. With wait=true (default) returns the finished run: status ok/error/timeout, `output` ' +
    '(what it found, JSON text) and `error`; with wait=false returns the run_id at once (see the history). CONFLICT when that routine is ' +
    'already running.',
  toolset: 'routines',
  route: routinesApi.routineTrigger,
  annotations: {readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false},
  summarize: (r) => (r.status ? `${r.run_id}: ${r.status}${r.error ? ` (${r.error})` : ''}` : `${r.run_id} started`),
  // With wait the run may take its action's whole deadline (≤ 600 s), beyond the client's 30 s default.
  run: (clients, args) => routines(clients).routineTrigger(args, {timeoutMs: args.wait ? ROUTINE_TRIGGER_CLIENT_TIMEOUT_MS : undefined}),
})

/** The routines toolset. */
export const ROUTINES_TOOLS: readonly AnyTool[] = [routineAdd, routineList, routineTrigger] as unknown as AnyTool[]
