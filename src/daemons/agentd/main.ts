import {join} from 'node:path'
import {createTokenAuth} from '../../lib/rpc/auth.js'
import {createRpcServer} from '../../lib/rpc/server.js'
import type {DaemonContext, DaemonDefinition, ReloadResult} from '../../lib/daemon/runtime.js'
import {serveUntilAborted} from '../../lib/daemon/serve.js'
import {loadNodeKeys} from '../../lib/identity.js'
import {defaultBackupDir} from '../../lib/backup/manifest.js'
import {agentdApi} from './api.js'
import {createBackupService} from './backup.js'
import {recordRestore} from './restore-marker.js'
import {AgentdConfig} from './config.js'
import {createHostFacts} from './host-facts.js'
import {createLedgerMonitor} from './ledger-monitor.js'
import {createIncidentStore} from './incident-store.js'
import {createIncidentService} from './incidents.js'
import {createReceiptService} from './receipts.js'
import {createMemoryService} from './memory/service.js'
import {createFileService} from './files/service.js'
import {compilePathPolicy} from './files/path-policy.js'
import {openAgentdDb} from './store.js'
import {agentdHandlers} from './routes.js'
import {createAgentdService} from './service.js'
import {createApprovalStore} from './approvals/store.js'
import {createApprovalService} from './approvals/service.js'
import {knownOperations, resolveToolCall} from './approvals/resolve.js'
import {createAgentCardService} from './agent-card/service.js'
import {detectEnabledDaemons, gatewayBaseUrl} from './agent-card/enabled-daemons.js'
import {AVAILABLE_DAEMONS} from '../registry.js'
import {createServicesService} from './services/service.js'
import {hostNetworkSources} from './services/network.js'
import {createSafetyService} from './safety/service.js'
import {countPendingApprovals} from './safety/pending.js'
import {systemdAvailable} from './system/discover.js'

import {createAgentdExec} from './exec/setup.js'
import {shellExecGateBody} from './exec/service.js'
import type {ShellExecInput} from './exec/api.js'
import {setupSandbox} from './sandbox/setup.js'
import {createCapabilityStore} from './capability/store.js'
import {createCapabilityService} from './capability/service.js'
import {expandStatePath} from './hands-config.js'
import {readAllowlist} from '../egress/api.js'


async function main(ctx: DaemonContext<AgentdConfig>): Promise<void> {
  const startedAt = Date.now()
  const keys = loadNodeKeys(ctx.paths)
  const auth = createTokenAuth(ctx.paths.tokensDir)
  const monitor = createLedgerMonitor({
    ledger: ctx.ledger,
    log: ctx.log,
    signingKey: keys.signingKey,
    origin: keys.identity.ledger_origin,
    everyEvents: ctx.config.ledger.checkpointEveryEvents,
    everySecs: ctx.config.ledger.checkpointEverySecs,
  })
  const host = createHostFacts()
  const db = openAgentdDb(ctx.paths)
  let config = ctx.config
  const sandbox = setupSandbox({config: () => config, paths: ctx.paths, db, ledger: ctx.ledger, verifyKey: keys.verifyKey, log: ctx.log.child({component: 'sandbox'})})
  const service = createAgentdService({ledger: ctx.ledger, monitor, host, version: ctx.version, startedAt, sandbox: () => sandbox.probe.check()})
  const incidents = createIncidentService({store: createIncidentStore(db), ledger: ctx.ledger})
  const receipts = createReceiptService({ledger: ctx.ledger})
  recordRestore(ctx.paths, ctx.ledger, ctx.log)
  const memory = createMemoryService({
    dir: join(ctx.paths.stateDir, 'memory'),
    indexPath: join(ctx.paths.daemonStateDir('agentd'), 'memory-index.db'),
    ledger: ctx.ledger,
    log: ctx.log.child({component: 'memory'}),
  })

  const approvals = createApprovalService({
    store: createApprovalStore(db),
    ledger: ctx.ledger,
    settings: () => config.approval,
    rulesFile: join(ctx.paths.daemonStateDir('agentd'), 'approval-rules.json'),
    // shell_exec binds its approval to the body with the config's deadline and output defaults filled in.
    resolveTool: (tool, args) => {
      const resolved = resolveToolCall(tool, args)
      return tool === 'shell_exec' ? {...resolved, body: shellExecGateBody(resolved.body as ShellExecInput, config.exec)} : resolved
    },
    knownOperations: () => knownOperations(),
    log: ctx.log.child({component: 'approvals'}),
  })
  const backups = createBackupService({
    stateDir: ctx.paths.stateDir,
    ledger: ctx.ledger,
    log: ctx.log,
    version: ctx.version,
    settings: () => ({...config.backup, dir: config.backup.dir ?? defaultBackupDir(ctx.paths)}),
  })
  const cards = createAgentCardService({
    file: join(ctx.paths.daemonStateDir('agentd'), 'agent-card.json'),
    signingKey: keys.signingKey,
    ledger: ctx.ledger,
    gate: approvals.gate,
    version: ctx.version,
    settings: () => config.agentCard,
    enabledDaemons: () => detectEnabledDaemons(ctx.paths, AVAILABLE_DAEMONS),
    gatewayUrl: () => gatewayBaseUrl(ctx.paths),
    socket: (name) => ctx.paths.socket(name),
  })
  const exec = createAgentdExec({
    paths: ctx.paths,
    ledger: ctx.ledger,
    db,
    gate: approvals.gate,
    settings: () => config.exec,
    backupDir: () => config.backup.dir ?? defaultBackupDir(ctx.paths),
    cwdPolicy: () => compilePathPolicy(config.files, ctx.paths),
  })
  const capabilities = createCapabilityService({
    store: createCapabilityStore(db),
    ledger: ctx.ledger,
    gate: approvals.gate,
    signingKey: keys.signingKey,
    verifyKey: keys.verifyKey,
    policy: () => ({
      defaultTtlSecs: config.capability.defaultTtlSecs,
      maxTtlSecs: config.capability.maxTtlSecs,
      fsRoots: config.sandbox.fsRoots.map((root) => expandStatePath(root, ctx.paths)),
      allowlist: () => readAllowlist(ctx.paths),
    }),
  })
  const reload = async (): Promise<ReloadResult> => {
    const next = ctx.readConfig()
    auth.reload()
    const changed = (Object.keys(next) as (keyof AgentdConfig)[]).filter((key) => JSON.stringify(next[key]) !== JSON.stringify(config[key]))
    monitor.setSchedule(next.ledger.checkpointEveryEvents, next.ledger.checkpointEverySecs)
    memory.setScanSecs(next.memory.scanSecs)
    config = next
    sandbox.probe.reset()
    ctx.log.info('reloaded', {changed})
    return {reloaded: true, changed}
  }
  ctx.onReload(reload)

  const files = createFileService({settings: () => config.files, paths: ctx.paths, gate: approvals.gate, ledger: ctx.ledger})
  const services = createServicesService({systemd: () => systemdAvailable()})
  const safety = createSafetyService({
    ledger: ctx.ledger,
    gate: approvals.gate,
    log: ctx.log.child({component: 'safety'}),
    health: () => service.health(),
    pendingApprovals: () => countPendingApprovals(db, Date.now()),
    systemd: () => systemdAvailable(),
    runDir: ctx.paths.runDir,
    signal: ctx.signal,
  })
  const server = createRpcServer({daemon: 'agentd', version: ctx.version, api: agentdApi, handlers: agentdHandlers(service, reload, ctx.paths.runDir, {incidents, receipts, backups, memory, approvals, cards, files, services: {services, network: hostNetworkSources}, safety, exec, sandbox: sandbox.service, capabilities}), auth, log: ctx.log})
  host.start(ctx.signal)
  // Probe now, so the log says at start whether sandboxes work here (GET /health serves the same answer).
  void sandbox.probe.check().then((a) => (a.available ? undefined : ctx.log.warn('sandbox unavailable', {reason: a.reason})))
  monitor.start(ctx.signal)
  memory.start(config.memory.scanSecs, ctx.signal)
  approvals.start(() => config.approval.sweepSecs, ctx.signal)
  const pruning = setInterval(() => capabilities.prune(), 3_600_000)
  pruning.unref()
  ctx.signal.addEventListener('abort', () => clearInterval(pruning), {once: true})
  try {
    await serveUntilAborted(ctx, server)
  } finally {
    await memory.settle()
    await safety.settle()
    memory.close()
    db.close()
  }
}

/** agentd: system facts, the ledger API, tool-call records, receipts, incidents and backups. */
export const agentd: DaemonDefinition<typeof AgentdConfig> = {name: 'agentd', configSchema: AgentdConfig, main}
