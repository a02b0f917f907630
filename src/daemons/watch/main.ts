import {createTokenAuth} from '../../lib/rpc/auth.js'
import {runHealthCheck} from '../../lib/health-checks.js'
import {createRpcServer} from '../../lib/rpc/server.js'
import type {DaemonContext, DaemonDefinition, ReloadResult} from '../../lib/daemon/runtime.js'
import type {z} from 'zod'
import type {WatchHealth} from './api.js'
import {watchApi} from './api.js'
import {WatchConfig} from './config.js'
import {createAgentdGate, createBaselineChecks} from './gate.js'
import {nixAvailable, profileGeneration, resolveSystem} from './nix.js'
import {watchHandlers} from './routes.js'
import {createSwitchStore, openWatchDb} from './store.js'
import {createSwitchService} from './switch-service.js'
import {SwitchBeginInput} from './api.js'
import {createWatcherStore} from './watcher-store.js'
import {previousGeneration} from './watcher-actions.js'
import {createWatcherService} from './watcher-service.js'
import {createFleetStore} from './fleet-store.js'
import type {FleetSwitches} from './fleet-machine.js'
import {createFleetService} from './fleet-service.js'
import {createMeshTransport} from './fleet-transport.js'

async function main(ctx: DaemonContext<WatchConfig>): Promise<void> {
  const startedAt = Date.now()
  const auth = createTokenAuth(ctx.paths.tokensDir)
  const db = openWatchDb(ctx.paths)
  let config = ctx.config
  const store = createSwitchStore(db)
  const switches = createSwitchService({
    store,
    ledger: ctx.ledger,
    log: ctx.log.child({component: 'switch'}),
    settings: () => config,
    gate: createAgentdGate(ctx.paths),
    baseline: createBaselineChecks(ctx.paths, () => config.checkTimeouts),
  })
  const watcherStore = createWatcherStore(db)
  const watchers = createWatcherService({
    store: watcherStore,
    ledger: ctx.ledger,
    log: ctx.log.child({component: 'watcher'}),
    settings: () => config,
    gate: createAgentdGate(ctx.paths),
    rollback: {
      activeSwitch: () => store.active(),
      previousGeneration: () => previousGeneration(config.systemProfile),
      // The watcher was approved when it was added: its rollback runs as watch itself, never re-gated.
      begin: async (generation, plan, actor) =>
        (await switches.begin(SwitchBeginInput.parse({plan, target: {type: 'nixos', source: {generation}}}), {role: 'operator', actor})).id,
    },
  })

  // The fleet was approved when it was proposed or voted on: its switches run as watch, never re-gated.
  const fleetSwitches: FleetSwitches = {
    begin: async (target, checks, plan, actor) => (await switches.begin(SwitchBeginInput.parse({plan, target, health_checks: checks}), {role: 'operator', actor})).id,
    status: (id) => store.get(id)?.status ?? null,
    rollback: async (id, reason) => {
      if (store.get(id)?.status === 'probation') await switches.rollback(id, reason, {role: 'operator', actor: 'watch'})
    },
  }
  const fleet = createFleetService({
    store: createFleetStore(db),
    ledger: ctx.ledger,
    log: ctx.log.child({component: 'fleet'}),
    settings: () => config,
    gate: createAgentdGate(ctx.paths),
    transport: createMeshTransport(ctx.paths),
    switches: fleetSwitches,
    localHealthy: async (checks) => {
      const baseline = createBaselineChecks(ctx.paths, () => config.checkTimeouts)
      const results = await Promise.all([baseline(), ...checks.map(async (c) => [await runHealthCheck(c, config.checkTimeouts)])])
      return results.flat().every((r) => r.ok)
    },
  })

  const health = async (): Promise<z.input<typeof WatchHealth>> => {
    const nix = await nixAvailable()
    const problems = nix ? [] : ['nix-env is not installed: only `commands` switch targets can run']
    // A failed rollback leaves the host in a state nobody chose: say so until a newer switch ends it.
    const latest = store.list({limit: 1}).switches[0]
    const stuck = watcherStore.list().filter((w) => w.state === 'escalated' || w.state === 'breaker_open')
    if (stuck.length) problems.push(`watchers needing attention: ${stuck.map((w) => `${w.name} (${w.state})`).join(', ')}`.slice(0, 500))
    if (latest?.status === 'rollback_failed') problems.push(`switch ${latest.id} could not be rolled back: ${latest.reason ?? ''}`.slice(0, 500))
    return {
      status: problems.length ? 'degraded' : 'ok',
      daemon: 'watch',
      version: ctx.version,
      pid: process.pid,
      uptime_secs: Math.round((Date.now() - startedAt) / 1000),
      ...(problems.length ? {problems} : {}),
      active_switches: switches.activeCount(),
      nix_available: nix,
      system_profile: config.systemProfile,
      current_generation: await profileGeneration(config.systemProfile),
      current_system: await resolveSystem(config.currentSystemLink),
      watchers: watchers.counts(),
    }
  }
  const reload = async (): Promise<ReloadResult> => {
    const next = ctx.readConfig()
    auth.reload()
    const changed = (Object.keys(next) as (keyof WatchConfig)[]).filter((key) => JSON.stringify(next[key]) !== JSON.stringify(config[key]))
    config = next
    ctx.log.info('reloaded', {changed})
    return {reloaded: true, changed}
  }
  ctx.onReload(reload)

  const server = createRpcServer({daemon: 'watch', version: ctx.version, api: watchApi, handlers: watchHandlers({health, reload, switches, watchers, fleet}), auth, log: ctx.log})
  try {
    await server.listen(ctx.paths.socket('watch'), {group: ctx.config.socketGroup})
    ctx.ready()
    // After listening: a resumed probation's baseline check calls watch's own GET /health.
    await switches.resume()
    watchers.start()
    const fleetTimer = setInterval(() => void fleet.tick(), 1000)
    if (!ctx.signal.aborted) await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), {once: true}))
    clearInterval(fleetTimer)
    await watchers.stop()
    await switches.stop()
    await server.close()
  } finally {
    db.close()
  }
}

/** watch: SafeSwitch (health-gated switches with rollback to the exact previous system) and autopilot watchers. */
export const watch: DaemonDefinition<typeof WatchConfig> = {name: 'watch', configSchema: WatchConfig, main}
