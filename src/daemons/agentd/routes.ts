import type {Handlers} from '../../lib/rpc/server.js'
import {ndjson} from '../../lib/rpc/stream.js'
import type {ReloadResult} from '../../lib/daemon/runtime.js'
import type {AgentdApi} from './api.js'
import type {IncidentService} from './incidents.js'
import type {ReceiptService} from './receipts.js'
import type {BackupService} from './backup.js'
import type {AgentdService} from './service.js'
import type {MemoryService} from './memory/service.js'
import {runSystemQuery} from './system/query.js'
import {discoverServices} from './system/discover.js'
import type {CapabilityService} from './capability/service.js'
import {capabilityHandlers} from './capability/routes.js'

/** Binds agentd's route table to its service; no logic lives here. */
export function agentdHandlers(
  service: AgentdService,
  reload: () => Promise<ReloadResult>,
  runDir: string,
  records: {incidents: IncidentService; receipts: ReceiptService; backups: BackupService; memory: MemoryService; capabilities: CapabilityService},
): Handlers<AgentdApi> {
  const {incidents, receipts, backups, memory} = records
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
    backupCreate: (input, ctx) => backups.create(input, ctx.actor, ctx.signal),
    backupList: (input) => backups.list(input.limit),
    ledgerVerify: (input) => service.requestVerify(input.from, input.to),
    receiptList: (input) => receipts.list(input),
    receiptGet: (input) => receipts.get(input.id),
    incidentCreate: (input, ctx) => incidents.create(input, ctx.actor),
    incidentStep: (input, ctx) => incidents.step(input, ctx.actor),
    incidentGet: (input) => incidents.get(input.id),
    incidentList: (input) => incidents.list(input),
    memoryStore: (input, ctx) => memory.store(input, ctx),
    memoryIngest: (input, ctx) => memory.ingest(input, ctx),
    memoryRecall: (input) => memory.recall(input),
    memoryHealth: () => memory.health(),
    memoryReindex: () => memory.reindex(),
    ...capabilityHandlers(records.capabilities),
  }
}
