import type {Handlers} from '../../lib/rpc/server.js'
import {ndjson} from '../../lib/rpc/stream.js'
import type {ReloadResult} from '../../lib/daemon/runtime.js'
import type {AgentdApi} from './api.js'
import type {IncidentService} from './incidents.js'
import type {ReceiptService} from './receipts.js'
import type {BackupService} from './backup.js'
import type {AgentdService} from './service.js'
import type {MemoryService} from './memory/service.js'
import type {FileService} from './files/service.js'
import {fileHandlers} from './files/routes.js'
import {runSystemQuery} from './system/query.js'
import {discoverServices} from './system/discover.js'
import type {ApprovalService} from './approvals/service.js'
import {approvalHandlers} from './approvals/routes.js'
import type {AgentCardService} from './agent-card/service.js'
import {agentCardHandlers} from './agent-card/routes.js'
import {servicesHandlers} from './services/routes.js'
import {safetyHandlers} from './safety/routes.js'
import type {ExecService} from './exec/service.js'
import {execHandlers} from './exec/routes.js'
import {sandboxHandlers} from './sandbox/routes.js'
import type {SandboxService} from './sandbox/service.js'
import type {CapabilityService} from './capability/service.js'
import {capabilityHandlers} from './capability/routes.js'
import type {CosignatureService} from './witness/service.js'
import {witnessHandlers} from './witness/routes.js'

/** Binds agentd's route table to its service; no logic lives here. */
export function agentdHandlers(
  service: AgentdService,
  reload: () => Promise<ReloadResult>,
  runDir: string,
  records: {incidents: IncidentService; receipts: ReceiptService; backups: BackupService; memory: MemoryService; approvals: ApprovalService; cards: AgentCardService; files: FileService; services: Parameters<typeof servicesHandlers>[0]; safety: Parameters<typeof safetyHandlers>[0]; exec: ExecService; sandbox: SandboxService; capabilities: CapabilityService; witness: CosignatureService},
): Handlers<AgentdApi> {
  const {incidents, receipts, backups, memory, approvals, cards} = records
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
    ...approvalHandlers(approvals),
    ...agentCardHandlers(cards),
    ...fileHandlers(records.files),
    ...servicesHandlers(records.services),
    ...safetyHandlers(records.safety),
    ...execHandlers(records.exec),
    ...sandboxHandlers(records.sandbox),
    ...capabilityHandlers(records.capabilities),
    ...witnessHandlers(records.witness),
  }
}
