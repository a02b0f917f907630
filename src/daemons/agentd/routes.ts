import type {Handlers} from '../../lib/rpc/server.js'
import {ndjson} from '../../lib/rpc/stream.js'
import type {ReloadResult} from '../../lib/daemon/runtime.js'
import type {AgentdApi} from './api.js'
import type {AgentdService} from './service.js'
import type {MemoryService} from './memory/service.js'
import {runSystemQuery} from './system/query.js'
import {discoverServices} from './system/discover.js'

/** Binds agentd's route table to its service; no logic lives here. */
export function agentdHandlers(service: AgentdService, memory: MemoryService, reload: () => Promise<ReloadResult>, runDir: string): Handlers<AgentdApi> {
  return {
    health: () => service.health(),
    reload: () => reload(),
    systemQuery: (input) => runSystemQuery(input.query, input.args),
    systemDiscover: () => discoverServices({runDir}),
    eventsLog: (input, ctx) => (input.follow ? ndjson(service.followEvents(input, ctx.signal)) : service.eventsLog(input)),
    toolCalls: (input, ctx) => service.recordToolCall(input, ctx),
    ledgerStatus: () => service.ledgerStatus(),
    ledgerCheckpoint: (input) => service.checkpoint(input.size),
    ledgerCheckpointNow: () => service.checkpointNow(),
    ledgerCheckpoints: (input) => service.checkpoints(input),
    ledgerProofInclusion: (input) => service.inclusion(input.seq, input.size),
    ledgerProofConsistency: (input) => service.consistency(input.old, input.new),
    ledgerVerify: (input) => service.requestVerify(input.from, input.to),
    memoryStore: (input, ctx) => memory.store(input, ctx),
    memoryIngest: (input, ctx) => memory.ingest(input, ctx),
    memoryRecall: (input) => memory.recall(input),
    memoryHealth: () => memory.health(),
    memoryReindex: () => memory.reindex(),
  }
}
