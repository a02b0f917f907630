import {join} from 'node:path'
import type {Db} from '../../lib/db/open.js'
import type {NodeKeys} from '../../lib/identity.js'
import type {Ledger} from '../../lib/ledger/ledger.js'
import type {Logger} from '../../lib/log.js'
import type {OsmodaPaths} from '../../lib/paths.js'
import {defaultBackupDir} from '../../lib/backup/manifest.js'
import {readAllowlist} from '../egress/api.js'
import {AVAILABLE_DAEMONS} from '../registry.js'
import {detectEnabledDaemons, gatewayBaseUrl} from './agent-card/enabled-daemons.js'
import {createAgentCardService} from './agent-card/service.js'
import {createApprovalService} from './approvals/service.js'
import {createApprovalStore} from './approvals/store.js'
import {createCapabilityService} from './capability/service.js'
import {createCapabilityStore} from './capability/store.js'
import type {AgentdConfig} from './config.js'
import type {ShellExecInput} from './exec/api.js'
import {shellExecGateBody} from './exec/service.js'
import {createAgentdExec} from './exec/setup.js'
import {compilePathPolicy} from './files/path-policy.js'
import {createFileService} from './files/service.js'
import {expandStatePath} from './hands-config.js'
import {countPendingApprovals} from './safety/pending.js'
import {createSafetyService} from './safety/service.js'
import {setupSandbox} from './sandbox/setup.js'
import {hostNetworkSources} from './services/network.js'
import {createServicesService} from './services/service.js'
import {systemdAvailable} from './system/discover.js'

/** What the hands need from agentd's main. */
export interface HandsDeps {
  paths: OsmodaPaths
  db: Db
  ledger: Ledger
  keys: NodeKeys
  log: Logger
  version: string
  /** The current config; every feature re-reads it per request, so a reload applies at once. */
  config: () => AgentdConfig
  /** agentd's GET /health, for safety status. */
  health: Parameters<typeof createSafetyService>[0]['health']
  signal: AbortSignal
}

/**
 * agentd's "hands" (SPEC §2.1): the approval gate and everything that passes it — agent card,
 * exec, files, sandboxes, capability tokens, services and safety. Each takes `approvals.gate`, so
 * no act by the agent skips it.
 */
export function createHands(deps: HandsDeps) {
  const {paths, db, ledger, keys, log, config} = deps
  const backupDir = () => config().backup.dir ?? defaultBackupDir(paths)
  const approvals = createApprovalService({
    store: createApprovalStore(db),
    ledger,
    settings: () => config().approval,
    rulesFile: join(paths.daemonStateDir('agentd'), 'approval-rules.json'),
    // shell_exec binds its approval to the body with the config's deadline and output defaults filled in.
    // The tool catalogue (every daemon's contract, ~4 MB) loads on the first request that needs it,
    // not with agentd.
    resolveTool: async (tool, args) => {
      const resolved = (await import('./approvals/resolve.js')).resolveToolCall(tool, args)
      return tool === 'shell_exec' ? {...resolved, body: shellExecGateBody(resolved.body as ShellExecInput, config().exec)} : resolved
    },
    knownOperations: async () => (await import('./approvals/resolve.js')).knownOperations(),
    log: log.child({component: 'approvals'}),
  })
  const gate = approvals.gate
  const sandbox = setupSandbox({config, paths, db, ledger, verifyKey: keys.verifyKey, log: log.child({component: 'sandbox'})})
  const cards = createAgentCardService({
    file: join(paths.daemonStateDir('agentd'), 'agent-card.json'),
    signingKey: keys.signingKey,
    ledger,
    gate,
    version: deps.version,
    settings: () => config().agentCard,
    enabledDaemons: () => detectEnabledDaemons(paths, AVAILABLE_DAEMONS),
    gatewayUrl: () => gatewayBaseUrl(paths),
    socket: (name) => paths.socket(name),
  })
  const exec = createAgentdExec({
    paths,
    ledger,
    db,
    gate,
    settings: () => config().exec,
    backupDir,
    cwdPolicy: () => compilePathPolicy(config().files, paths),
  })
  const capabilities = createCapabilityService({
    store: createCapabilityStore(db),
    ledger,
    gate,
    signingKey: keys.signingKey,
    verifyKey: keys.verifyKey,
    policy: () => ({
      defaultTtlSecs: config().capability.defaultTtlSecs,
      maxTtlSecs: config().capability.maxTtlSecs,
      fsRoots: config().sandbox.fsRoots.map((root) => expandStatePath(root, paths)),
      allowlist: () => readAllowlist(paths),
    }),
  })
  const files = createFileService({settings: () => config().files, paths, gate, ledger})
  const services = createServicesService({systemd: () => systemdAvailable()})
  const safety = createSafetyService({
    ledger,
    gate,
    log: log.child({component: 'safety'}),
    health: deps.health,
    pendingApprovals: () => countPendingApprovals(db, Date.now()),
    systemd: () => systemdAvailable(),
    runDir: paths.runDir,
    signal: deps.signal,
  })

  return {
    /** The route services, as agentdHandlers takes them. */
    routes: {approvals, cards, files, services: {services, network: hostNetworkSources}, safety, exec, sandbox: sandbox.service, capabilities},
    sandboxProbe: sandbox.probe,
    /** Starts the background loops: the approval sweeper and the hourly capability prune. */
    start(): void {
      approvals.start(() => config().approval.sweepSecs, deps.signal)
      const pruning = setInterval(() => capabilities.prune(), 3_600_000)
      pruning.unref()
      deps.signal.addEventListener('abort', () => clearInterval(pruning), {once: true})
      // Probe now, so the log says at start whether sandboxes work here (GET /health serves the same answer).
      void sandbox.probe.check().then((a) => (a.available ? undefined : log.warn('sandbox unavailable', {reason: a.reason})))
    },
    /** Waits for work that outlives its request (safety acts) before the database closes. */
    settle: () => safety.settle(),
  }
}
