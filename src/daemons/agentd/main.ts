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
import {openAgentdDb} from './store.js'
import {agentdHandlers} from './routes.js'
import {createAgentdService} from './service.js'
import {createCapabilityStore} from './capability/store.js'
import {createCapabilityService} from './capability/service.js'
import {expandStatePath} from './hands-config.js'
import {readAllowlist} from '../egress/api.js'
import {OsmodaError} from '../../lib/errors.js'
import type {Gate} from './approvals/types.js'

// Until the approval gate is wired, every request that would need an approval is refused
// (fail closed); operator requests and requests the policy lets through go ahead.
const closedGate: Gate = {
  check: (request) => {
    if (request.ctx.role === 'operator') return {decision: 'allow', approval_id: null, reason: 'operator'}
    if (request.hint === 'not_required') return {decision: 'allow', approval_id: null, reason: 'not_required'}
    throw new OsmodaError('FEATURE_DISABLED', `${request.operation} needs an operator approval and approvals are not available in this build`, {details: {option: 'approval'}})
  },
}

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
  const service = createAgentdService({ledger: ctx.ledger, monitor, host, version: ctx.version, startedAt})
  const incidents = createIncidentService({store: createIncidentStore(db), ledger: ctx.ledger})
  const receipts = createReceiptService({ledger: ctx.ledger})
  recordRestore(ctx.paths, ctx.ledger, ctx.log)
  const memory = createMemoryService({
    dir: join(ctx.paths.stateDir, 'memory'),
    indexPath: join(ctx.paths.daemonStateDir('agentd'), 'memory-index.db'),
    ledger: ctx.ledger,
    log: ctx.log.child({component: 'memory'}),
  })

  let config = ctx.config
  const backups = createBackupService({
    stateDir: ctx.paths.stateDir,
    ledger: ctx.ledger,
    log: ctx.log,
    version: ctx.version,
    settings: () => ({...config.backup, dir: config.backup.dir ?? defaultBackupDir(ctx.paths)}),
  })
  const capabilities = createCapabilityService({
    store: createCapabilityStore(db),
    ledger: ctx.ledger,
    gate: closedGate,
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
    ctx.log.info('reloaded', {changed})
    return {reloaded: true, changed}
  }
  ctx.onReload(reload)

  const server = createRpcServer({daemon: 'agentd', version: ctx.version, api: agentdApi, handlers: agentdHandlers(service, reload, ctx.paths.runDir, {incidents, receipts, backups, memory, capabilities}), auth, log: ctx.log})
  host.start(ctx.signal)
  monitor.start(ctx.signal)
  memory.start(config.memory.scanSecs, ctx.signal)
  const pruning = setInterval(() => capabilities.prune(), 3_600_000)
  pruning.unref()
  ctx.signal.addEventListener('abort', () => clearInterval(pruning), {once: true})
  try {
    await serveUntilAborted(ctx, server)
  } finally {
    await memory.settle()
    memory.close()
    db.close()
  }
}

/** agentd: system facts, the ledger API, tool-call records, receipts, incidents and backups. */
export const agentd: DaemonDefinition<typeof AgentdConfig> = {name: 'agentd', configSchema: AgentdConfig, main}
