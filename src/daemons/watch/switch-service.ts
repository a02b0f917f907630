import {createHash} from 'node:crypto'
import type {z} from 'zod'
import {NotFoundError, UsageError} from '../../lib/errors.js'
import {which} from '../../lib/exec/which.js'
import {createIdGenerator} from '../../lib/ids.js'
import type {Ledger} from '../../lib/ledger/ledger.js'
import type {Logger} from '../../lib/log.js'
import type {RequestContext} from '../../lib/rpc/server.js'
import type {SwitchBeginInput, SwitchListInput, SwitchSession, Target} from './api.js'
import type {WatchConfig} from './config.js'
import type {SwitchGate} from './gate.js'
import {generationSystem, hasActivation, nixAvailable, nixUnavailable, profileGeneration, resolveSystem} from './nix.js'
import {createSwitchEngine, type CheckResults} from './switch-engine.js'
import type {SwitchStore} from './store.js'

type BeginInput = z.output<typeof SwitchBeginInput>
type Caller = Pick<RequestContext, 'role' | 'actor'>

/** What the SafeSwitch service needs. */
export interface SwitchServiceDeps {
  store: SwitchStore
  ledger: Ledger
  log: Logger
  settings: () => WatchConfig
  gate: SwitchGate
  baseline: () => Promise<CheckResults>
  now?: () => number
}

const iso = (ms: number) => new Date(ms).toISOString()

/**
 * SafeSwitch (SPEC §2.3): validates and gates a begin, records the previous generation and system,
 * persists the session before anything is touched, then hands it to the engine, which builds,
 * activates, watches probation and commits or rolls back. One session at a time.
 */
export function createSwitchService(deps: SwitchServiceDeps) {
  const now = deps.now ?? Date.now
  const newId = createIdGenerator({clock: now})
  const engine = createSwitchEngine({...deps, now})

  const get = (id: string): SwitchSession => {
    const session = deps.store.get(id)
    if (!session) throw new NotFoundError(`no switch ${id}`, {hint: 'list sessions with osmoda switch list'})
    return session
  }

  return {
    async begin(input: BeginInput, ctx: Caller): Promise<SwitchSession> {
      const {approval_id: approvalId, ...body} = input
      const config = deps.settings()
      // Everything that would make the switch impossible is refused before an approval is asked for.
      await preflight(input.target, input.health_checks)
      const previousSystem = await resolveSystem(config.currentSystemLink)
      if (input.target.type === 'nixos') await requireNix(config, previousSystem, 'flake' in input.target.source || 'config' in input.target.source)
      await deps.gate.check({operation: 'safe_switch_begin', method: 'POST', path: '/switch/begin', body, ctx, summary: summarize(input), approvalId})
      const started = now()
      const session: SwitchSession = {
        id: newId('sw'),
        plan: input.plan,
        target: input.target,
        status: 'building',
        previous_generation: await profileGeneration(config.systemProfile),
        previous_system: previousSystem,
        target_system: null,
        target_generation: null,
        ttl_secs: input.ttl_secs ?? config.probation.ttlSecs,
        grace_secs: input.grace_secs ?? config.probation.graceSecs,
        failure_threshold: input.failure_threshold ?? config.probation.failureThreshold,
        check_interval_secs: input.check_interval_secs ?? config.probation.checkIntervalSecs,
        health_checks: input.health_checks,
        baseline_checks: input.baseline_checks,
        consecutive_failures: 0,
        last_check_at: null,
        last_check_results: [],
        diff: null,
        started_at: iso(started),
        activated_at: null,
        probation_ends_at: null,
        ended_at: null,
        reason: null,
        actor: ctx.actor,
      }
      // Step 1: the session (with the recorded previous system) is on disk before anything changes.
      deps.store.insertIfIdle(session)
      try {
        deps.ledger.append({
          type: 'switch.began',
          actor: ctx.actor,
          payload: {switch_id: session.id, plan: session.plan, target: ledgerTarget(session.target), previous_generation: session.previous_generation, previous_system: session.previous_system, dry_run: input.dry_run},
        })
      } catch (error) {
        // Nothing has been touched yet: free the slot rather than hold it for a switch that never ran.
        deps.store.save({...session, status: 'failed', reason: `could not be ledgered: ${(error as Error).message}`, ended_at: iso(now())})
        throw error
      }
      engine.start(session.id, {dryRun: input.dry_run})
      return session
    },

    list: (input: z.output<typeof SwitchListInput>) => deps.store.list(input),
    get,

    async commit(id: string, ctx: Caller): Promise<SwitchSession> {
      get(id)
      return engine.commitByRequest(id, ctx)
    },

    async rollback(id: string, reason: string | undefined, ctx: Caller): Promise<SwitchSession> {
      get(id)
      return engine.rollbackByRequest(id, reason ?? `requested by ${ctx.actor}`, ctx)
    },

    /** Picks up a session left active by a previous run of watch (SPEC §2.3 step 7). */
    resume: () => engine.resume(),
    activeCount: () => (deps.store.active() ? 1 : 0),
    stop: () => engine.stop(),
  }

  async function requireNix(config: WatchConfig, previousSystem: string | null, builds: boolean): Promise<void> {
    if (!(await nixAvailable())) throw nixUnavailable('nix-env is not installed on this host', 'nixos targets need Nix; use a `commands` target for other changes')
    if (builds && !(await which('nixos-rebuild'))) throw nixUnavailable('nixos-rebuild is not installed on this host, so flake and config targets cannot be built', 'switch to an already-built store path or an existing generation')
    if (!previousSystem) throw nixUnavailable(`${config.currentSystemLink} does not resolve to a system`, 'watch.currentSystemLink must point at the running system closure')
    if (!(await hasActivation(previousSystem))) {
      throw nixUnavailable(`the running system ${previousSystem} has no bin/switch-to-configuration, so a rollback could not activate it`, 'SafeSwitch needs a NixOS system to roll back to')
    }
  }

  async function preflight(target: Target, checks: BeginInput['health_checks']): Promise<void> {
    const problems: string[] = []
    const executable = async (path: string, where: string) => {
      if (!(await which(path))) problems.push(`${where}: ${path} does not exist or is not executable`)
    }
    for (const [i, check] of checks.entries()) if (check.type === 'command') await executable(check.command, `health_checks.${i}.command`)
    if (target.type === 'commands') {
      for (const [i, step] of target.apply.entries()) await executable(step.command, `target.apply.${i}.command`)
      for (const [i, step] of target.revert.entries()) await executable(step.command, `target.revert.${i}.command`)
    } else if ('store_path' in target.source) {
      if (!(await hasActivation(target.source.store_path))) problems.push(`target.source.store_path: ${target.source.store_path} does not exist or has no bin/switch-to-configuration`)
    } else if ('generation' in target.source) {
      const system = await generationSystem(deps.settings().systemProfile, target.source.generation)
      if (!system) problems.push(`target.source.generation: generation ${target.source.generation} does not exist in ${deps.settings().systemProfile}`)
    }
    if (problems.length) throw new UsageError(`switch request refers to things that do not exist: ${problems.join('; ')}`, {details: problems})
  }
}

/** The SafeSwitch service. */
export type SwitchService = ReturnType<typeof createSwitchService>

function summarize(input: BeginInput): string {
  const t = input.target
  const what =
    t.type === 'commands'
      ? `run ${t.apply.length} command(s) (${t.apply.map((s) => s.command).join(', ')})`
      : 'store_path' in t.source
        ? `switch to ${t.source.store_path}`
        : 'generation' in t.source
          ? `switch to generation ${t.source.generation}`
          : 'flake' in t.source
            ? `build and switch to ${t.source.flake}`
            : 'rebuild /etc/nixos and switch'
  return `SafeSwitch${input.dry_run ? ' (dry run)' : ''}: ${what}; ${input.plan}`.slice(0, 500)
}

const LEDGER_TARGET_MAX = 16_384
const digest = (text: string) => createHash('sha256').update(text).digest('hex')

/** The target for the ledger: edit contents become their digest and size, and so does a target too big for an event. */
function ledgerTarget(target: Target): unknown {
  const slim =
    target.type === 'nixos' && target.edits
      ? {...target, edits: target.edits.map((e) => ({path: e.path, content_sha256: digest(e.content), content_bytes: Buffer.byteLength(e.content)}))}
      : target
  const text = JSON.stringify(slim)
  return text.length <= LEDGER_TARGET_MAX ? slim : {type: target.type, target_sha256: digest(JSON.stringify(target)), target_bytes: Buffer.byteLength(text)}
}
