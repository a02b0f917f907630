import type {z} from 'zod'
import {NotFoundError, UsageError} from '../../lib/errors.js'
import type {Ledger, LedgerEvent} from '../../lib/ledger/ledger.js'
import {consistencyProof, inclusionProof, leafHash} from '../../lib/ledger/merkle.js'
import type {RequestContext} from '../../lib/rpc/server.js'
import type {AgentdHealth, CheckpointOut, EventLogInput, ToolCallInput} from './api.js'
import {followLedger} from './follow.js'
import type {LedgerMonitor} from './ledger-monitor.js'

/** Host facts agentd reports; injected so the service can be tested without /proc. */
export interface HostFacts {
  health(): Promise<Omit<z.input<typeof AgentdHealth>, 'status' | 'daemon' | 'version' | 'pid' | 'uptime_secs' | 'ledger' | 'problems'>>
}

/** Dependencies of agentd's service. */
export interface AgentdServiceDeps {
  ledger: Ledger
  monitor: LedgerMonitor
  host: HostFacts
  version: string
  startedAt: number
  now?: () => number
  /** The sandbox probe (cached) behind `sandbox{available, reason}`; without it the host facts answer. */
  sandbox?: () => Promise<{available: boolean; reason: string | null}>
}

type Checkpoint = z.input<typeof CheckpointOut>

/** agentd's business logic for this release: health, the ledger API and tool-call records. */
export function createAgentdService(deps: AgentdServiceDeps) {
  const {ledger, monitor} = deps
  const now = deps.now ?? Date.now

  const checkpointOut = (row: {size: number; root_hash: string; ts: string; note: string}): Checkpoint => ({
    origin: row.note.split('\n', 1)[0] ?? '',
    size: row.size,
    root_hash: row.root_hash,
    ts: row.ts,
    note: row.note,
    cosignatures: ledger.cosignatures(row.size),
  })

  const leavesUpTo = (size: number): Buffer[] => {
    const total = ledger.size()
    if (size > total) throw new UsageError(`tree size ${size} is beyond the ledger head ${total}`, {details: [`size: at most ${total}`]})
    return ledger.eventHashes(1, size).map(leafHash)
  }

  return {
    async health(): Promise<z.input<typeof AgentdHealth>> {
      const [facts, sandbox] = await Promise.all([deps.host.health(), deps.sandbox?.()])
      const verify = monitor.status()
      const problems: string[] = []
      if (verify.state === 'failed') problems.push(`ledger integrity check failed at seq ${verify.first_bad_seq}`)
      return {
        status: problems.length ? 'degraded' : 'ok',
        daemon: 'agentd',
        version: deps.version,
        pid: process.pid,
        uptime_secs: Math.round((now() - deps.startedAt) / 1000),
        ...(problems.length ? {problems} : {}),
        ...facts,
        ...(sandbox ? {sandbox} : {}),
        ledger: {size: ledger.size(), verify_state: verify.state, first_bad_seq: verify.first_bad_seq, last_checkpoint_size: ledger.latestCheckpoint()?.size ?? null},
      }
    },

    eventsLog(input: z.output<typeof EventLogInput>): {events: LedgerEvent[]; next_cursor: string | null} {
      const order = input.order ?? (input.after !== undefined ? 'asc' : 'desc')
      const events = ledger.query({type: input.type, actor: input.actor, limit: input.limit, before: input.before, after: input.after, order})
      const last = events[events.length - 1]
      const more = last !== undefined && events.length === input.limit && (order === 'desc' ? last.seq > 1 : last.seq < ledger.size())
      return {events, next_cursor: more ? String(last.seq) : null}
    },

    followEvents(input: z.output<typeof EventLogInput>, signal: AbortSignal) {
      return followLedger(ledger, {type: input.type, actor: input.actor, after: input.after}, signal)
    },

    recordToolCall(input: z.output<typeof ToolCallInput>, ctx: RequestContext): {seq: number} {
      const event = ledger.append({
        type: 'tool.called',
        actor: ctx.actor,
        payload: {
          tool: input.tool,
          toolset: input.toolset,
          args_sha256: input.args_sha256,
          outcome: input.outcome,
          error_code: input.error_code ?? null,
          duration_ms: input.duration_ms,
          agent_id: ctx.agentId,
          session_id: input.session_id ?? ctx.sessionId,
          request_id: input.request_id ?? ctx.requestId,
          approval_id: input.approval_id ?? null,
        },
      })
      return {seq: event.seq}
    },

    ledgerStatus() {
      const head = ledger.head()
      const latest = ledger.latestCheckpoint()
      return {
        size: head?.seq ?? 0,
        head_hash: head?.hash ?? null,
        verify: monitor.status(),
        latest_checkpoint: latest ? {size: latest.size, root_hash: latest.root_hash, ts: latest.ts, cosignature_count: ledger.cosignatureCount(latest.size)} : null,
      }
    },

    checkpoint(size?: number): Checkpoint {
      const row = size === undefined ? ledger.latestCheckpoint() : ledger.getCheckpoint(size)
      if (!row) throw new NotFoundError(size === undefined ? 'no checkpoint has been signed yet' : `no checkpoint of size ${size}`, {hint: 'osmoda ledger checkpoint --now signs one'})
      return checkpointOut(row)
    },

    checkpointNow(): Checkpoint {
      return checkpointOut(monitor.checkpointNow())
    },

    checkpoints(input: {limit: number; cursor?: string}) {
      const rows = ledger.listCheckpoints({limit: input.limit, beforeSize: input.cursor === undefined ? undefined : Number(input.cursor)})
      const last = rows[rows.length - 1]
      return {
        checkpoints: rows.map(({note, ...row}) => ({...row, origin: note.split('\n', 1)[0] ?? '', note, cosignature_count: ledger.cosignatureCount(row.size)})),
        next_cursor: rows.length === input.limit && last ? String(last.size) : null,
      }
    },

    inclusion(seq: number, size: number) {
      if (seq > size) throw new UsageError(`seq ${seq} is not inside a tree of size ${size}`, {details: ['seq: must be at most size']})
      const leaves = leavesUpTo(size)
      return {leaf_index: seq - 1, tree_size: size, leaf_hash: (leaves[seq - 1] as Buffer).toString('base64'), hashes: inclusionProof(leaves, seq - 1, size).map((h) => h.toString('base64'))}
    },

    consistency(oldSize: number, newSize: number) {
      if (oldSize > newSize) throw new UsageError(`old size ${oldSize} is larger than new size ${newSize}`, {details: ['old: must be at most new']})
      const leaves = leavesUpTo(newSize)
      return {old_size: oldSize, new_size: newSize, hashes: consistencyProof(leaves, oldSize, newSize).map((h) => h.toString('base64'))}
    },

    requestVerify(from: number, to?: number): {state: 'running'} {
      const size = ledger.size()
      if (to !== undefined && to < from) throw new UsageError('`to` is before `from`', {details: ['to: must be at least from']})
      if (from > Math.max(size, 1)) throw new UsageError(`from ${from} is beyond the ledger head ${size}`, {details: [`from: at most ${size}`]})
      monitor.requestVerify(from, to)
      return {state: 'running'}
    },
  }
}

/** agentd's service interface. */
export type AgentdService = ReturnType<typeof createAgentdService>
