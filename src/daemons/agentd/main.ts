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
import {createHands} from './hands.js'
import {createHostFacts} from './host-facts.js'
import {createLedgerMonitor} from './ledger-monitor.js'
import {createIncidentStore} from './incident-store.js'
import {createIncidentService} from './incidents.js'
import {createReceiptService} from './receipts.js'
import {createMemoryService} from './memory/service.js'
import {openAgentdDb} from './store.js'
import {agentdHandlers} from './routes.js'
import {createCosignatureService} from './witness/service.js'
import {createAgentdService} from './service.js'

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
  const hands = createHands({
    paths: ctx.paths,
    db,
    ledger: ctx.ledger,
    keys,
    log: ctx.log,
    version: ctx.version,
    config: () => config,
    health: () => service.health(),
    signal: ctx.signal,
  })
  const service = createAgentdService({ledger: ctx.ledger, monitor, host, version: ctx.version, startedAt, sandbox: () => hands.sandboxProbe.check()})
  const incidents = createIncidentService({store: createIncidentStore(db), ledger: ctx.ledger})
  const receipts = createReceiptService({ledger: ctx.ledger})
  recordRestore(ctx.paths, ctx.ledger, ctx.log)
  const memory = createMemoryService({
    dir: join(ctx.paths.stateDir, 'memory'),
    indexPath: join(ctx.paths.daemonStateDir('agentd'), 'memory-index.db'),
    ledger: ctx.ledger,
    log: ctx.log.child({component: 'memory'}),
  })

  const backups = createBackupService({
    stateDir: ctx.paths.stateDir,
    ledger: ctx.ledger,
    log: ctx.log,
    version: ctx.version,
    settings: () => ({...config.backup, dir: config.backup.dir ?? defaultBackupDir(ctx.paths)}),
  })
  const reload = async (): Promise<ReloadResult> => {
    const next = ctx.readConfig()
    auth.reload()
    const changed = (Object.keys(next) as (keyof AgentdConfig)[]).filter((key) => JSON.stringify(next[key]) !== JSON.stringify(config[key]))
    monitor.setSchedule(next.ledger.checkpointEveryEvents, next.ledger.checkpointEverySecs)
    memory.setScanSecs(next.memory.scanSecs)
    config = next
    hands.sandboxProbe.reset()
    ctx.log.info('reloaded', {changed})
    return {reloaded: true, changed}
  }
  ctx.onReload(reload)

  const server = createRpcServer({daemon: 'agentd', version: ctx.version, api: agentdApi, handlers: agentdHandlers(service, reload, ctx.paths.runDir, {incidents, receipts, backups, memory, ...hands.routes, witness: createCosignatureService({ledger: ctx.ledger})}), auth, log: ctx.log})
  host.start(ctx.signal)
  monitor.start(ctx.signal)
  memory.start(config.memory.scanSecs, ctx.signal)
  hands.start()
  try {
    await serveUntilAborted(ctx, server)
  } finally {
    await memory.settle()
    await hands.settle()
    memory.close()
    db.close()
  }
}

/** agentd: the agent's eyes and hands on the host, its memory and records, the approval gate and the ledger API. */
export const agentd: DaemonDefinition<typeof AgentdConfig> = {name: 'agentd', configSchema: AgentdConfig, main}
