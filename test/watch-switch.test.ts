// SafeSwitch end to end on real Nix store paths and profile generations (Debian's nix-bin, offline):
// watch and agentd run as real daemons, the CLI is the built binary, the "systems" are store paths
// whose switch-to-configuration starts or stops a local HTTP service and moves a scratch link.
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {spawnSync} from 'node:child_process'
import {readFileSync, realpathSync} from 'node:fs'
import {join} from 'node:path'
import {FINAL_STATUSES, watchApi, type SwitchSession} from '../src/daemons/watch/api.js'
import {openLedger} from '../src/lib/ledger/ledger.js'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'
import {scratchHost, type ScratchHost} from './helpers/nix-systems.js'
import {requireTool} from './helpers/system-tool.js'

const nix = requireTool('nix-store', 'apt-get install nix-bin')
const installed = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0

let env: TestEnv
let host: ScratchHost
let initial: string
const daemons: DaemonProcess[] = []

/** A test installation with agentd and watch over a scratch host running system A (generation 1). */
async function setup() {
  const env = await testEnv()
  const host = await scratchHost(env.base)
  const initial = host.system('serve', 'A')
  host.setProfile(initial)
  host.activate(initial)
  const agentd = await env.start('agentd')
  const watch = await env.start('watch', host.watchEnv)
  return {env, host, initial, daemons: [agentd, watch]}
}

async function teardown(installation: {env: TestEnv; host: ScratchHost; daemons: DaemonProcess[]}) {
  for (const d of installation.daemons.splice(0)) await d.stop('SIGKILL')
  installation.host.stopService()
  await installation.env.cleanup()
}

beforeEach(async () => {
  if (nix.skip) return
  // Given a running system A, generation 1 of the scratch profile, serving on its port
  const installation = await setup()
  ;({env, host, initial} = installation)
  daemons.push(...installation.daemons)
})

afterEach(async () => {
  if (nix.skip) return
  await teardown({env, host, daemons})
})

const watch = () => env.client('watch', watchApi)

async function until(id: string, done: (s: SwitchSession) => boolean, ms = 60_000, on: TestEnv = env): Promise<SwitchSession> {
  const client = on.client('watch', watchApi)
  const deadline = Date.now() + ms
  try {
    for (;;) {
      const session = await client.switchGet({id})
      if (done(session)) return session
      if (Date.now() > deadline) throw new Error(`switch ${id} stuck in ${session.status}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  } finally {
    client.close()
  }
}

/** The switch.* story of one session, in ledger order. */
function story(id: string, on: TestEnv = env): string[] {
  const ledger = openLedger(on.paths.ledgerDb, {readonly: true})
  try {
    return ledger
      .query({type: 'switch.*', limit: 1000, order: 'asc'})
      .filter((e) => e.payload.switch_id === id)
      .map((e) => e.type)
  } finally {
    ledger.close()
  }
}

const fast = {grace_secs: 0, check_interval_secs: 1}

describe.skipIf(nix.skip)('SafeSwitch on Nix store paths', () => {
  it('commits a healthy switch at the end of probation: the profile gains a generation and the CLI --wait exits 0', async () => {
    // Given a healthy system B
    const next = host.system('serve', 'B')
    // When the operator switches with --wait and a 30 s probation
    const run = await env.cli(
      ['switch', 'begin', '--plan', 'upgrade to B', '--store-path', next, '--ttl', '30', '--grace', '0', '--interval', '1', '--check', JSON.stringify(host.check), '--wait', '--json'],
      {timeoutMs: 60_000},
    )
    // Then it exits 0 with the committed session
    expect(run.exitCode, run.stderr).toBe(0)
    const session = run.json.result as SwitchSession
    expect(session).toMatchObject({status: 'committed', previous_generation: 1, previous_system: initial, target_system: next, target_generation: 2})
    // And the profile's new generation is B, the link points at B and boot default is B
    expect(host.generation()).toBe(2)
    expect(realpathSync(host.profile)).toBe(next)
    expect(host.current()).toBe(next)
    expect(readFileSync(join(host.dir, 'boot-default'), 'utf8').trim()).toBe(next)
    expect(Date.parse(session.ended_at as string)).toBeGreaterThanOrEqual(Date.parse(session.probation_ends_at as string))
    expect(session.last_check_results.every((r) => r.ok)).toBe(true)
    // And baseline checks (agentd and watch answering) ran beside the user's check
    expect(session.last_check_results.map((r) => r.check.type)).toEqual(['http_get', 'daemon_health', 'daemon_health'])
    expect(story(session.id)).toEqual(['switch.began', 'switch.activated', 'switch.committed'])
  }, 90_000)

  it('rolls back to exactly the recorded system when checks fail, even after other generations were added; the CLI exits 1 with SWITCH_ROLLED_BACK', async () => {
    // Given a system C whose activation stops the service
    const broken = host.system('stop', 'C')
    const other1 = host.system('serve', 'D')
    const other2 = host.system('serve', 'E')
    // When the operator switches with --wait and a threshold of 4 failing ticks
    const running = env.cli(
      ['switch', 'begin', '--plan', 'try C', '--store-path', broken, '--ttl', '300', '--grace', '0', '--interval', '1', '--threshold', '4', '--check', JSON.stringify(host.check), '--wait', '--json'],
      {timeoutMs: 60_000},
    )
    // And meanwhile, during probation, two more generations are added to the profile
    const list = watch()
    const probation = await (async () => {
      for (;;) {
        const {switches} = await list.switchList({limit: 1})
        if (switches[0]?.status === 'probation') return switches[0]
        await new Promise((r) => setTimeout(r, 50))
      }
    })()
    list.close()
    host.setProfile(other1)
    host.setProfile(other2)
    expect(host.generation()).toBe(3)
    const run = await running
    // Then the CLI exits 1 with SWITCH_ROLLED_BACK
    expect(run.exitCode, run.stderr).toBe(1)
    expect(run.json.error.code).toBe('SWITCH_ROLLED_BACK')
    const session = await watch().switchGet({id: probation.id})
    expect(session).toMatchObject({status: 'rolled_back', previous_system: initial, previous_generation: 1, target_system: broken, target_generation: null})
    expect(session.reason).toMatch(/health checks failed 4 consecutive/)
    // And the running system is exactly A again (not N-1 = D) with the service back up; the profile is untouched by the rollback
    expect(host.current()).toBe(initial)
    expect(realpathSync(host.profile)).toBe(other2)
    expect(session.last_check_results.every((r) => r.ok)).toBe(true)
    // And the ledger tells the story in order
    expect(story(session.id)).toEqual(['switch.began', 'switch.activated', 'switch.check_failed', 'switch.rolling_back', 'switch.rolled_back'])
  }, 90_000)

  it('counts exit 4 of switch-to-configuration test as a failure and rolls back without probation', async () => {
    // Given a system whose activation exits 4 (units failed)
    const failing = host.system('exit4', 'F')
    // When it is switched to
    const begun = await watch().switchBegin({plan: 'units fail', target: {type: 'nixos', source: {store_path: failing}}, health_checks: [host.check], ...fast})
    expect(begun.status).toBe('building')
    const session = await until(begun.id, (s) => s.status === 'rolled_back' || s.status === 'rollback_failed')
    // Then it is rolled back to A, the reason names exit 4, and nothing was committed
    expect(session.status).toBe('rolled_back')
    expect(session.reason).toMatch(/exit 4/)
    expect(host.current()).toBe(initial)
    expect(host.generation()).toBe(1)
    expect(story(session.id)).toEqual(['switch.began', 'switch.rolling_back', 'switch.rolled_back'])
  }, 60_000)

  it('runs one session at a time: of two concurrent begins one gets 409 SWITCH_IN_PROGRESS; a rollback request ends the other', async () => {
    const next = host.system('serve', 'G')
    const body = {plan: 'one of two', target: {type: 'nixos' as const, source: {store_path: next}}, health_checks: [host.check], ttl_secs: 300, ...fast}
    // When two begins race
    const results = await Promise.allSettled([watch().switchBegin(body), watch().switchBegin(body)])
    // Then exactly one is accepted and the other is 409 SWITCH_IN_PROGRESS naming it
    const won = results.filter((r) => r.status === 'fulfilled')
    const lost = results.filter((r) => r.status === 'rejected')
    expect(won).toHaveLength(1)
    expect(lost).toHaveLength(1)
    const winner = (won[0] as PromiseFulfilledResult<SwitchSession>).value
    expect((lost[0] as PromiseRejectedResult).reason).toMatchObject({code: 'SWITCH_IN_PROGRESS', details: {switch_id: winner.id}})
    // When the operator rolls the winner back during probation
    await until(winner.id, (s) => s.status === 'probation')
    const rolled = await watch().switchRollback({id: winner.id, reason: 'changed my mind'})
    // Then the route answers after the rollback with the recorded system running again
    expect(rolled).toMatchObject({status: 'rolled_back', reason: 'changed my mind'})
    expect(host.current()).toBe(initial)
    // And a second rollback or a commit is a 409 naming the state
    await expect(watch().switchRollback({id: winner.id})).rejects.toMatchObject({code: 'CONFLICT', details: {state: 'rolled_back'}})
    await expect(watch().switchCommit({id: winner.id})).rejects.toMatchObject({code: 'CONFLICT', details: {state: 'rolled_back'}})
    // And the slot is free again
    const after = await watch().switchBegin({...body, dry_run: true})
    expect((await until(after.id, (s) => s.status === 'built')).target_system).toBe(next)
  }, 60_000)

  it('commits on operator request during probation and records the new generation', async () => {
    const next = host.system('serve', 'H')
    const begun = await watch().switchBegin({plan: 'commit early', target: {type: 'nixos', source: {store_path: next}}, health_checks: [host.check], ttl_secs: 600, ...fast})
    await until(begun.id, (s) => s.status === 'probation' && s.last_check_at !== null)
    // When the agent commits after a passing check
    const agent = env.client('watch', watchApi, 'agent', {'x-osmoda-agent-id': 'ops'})
    const committed = await agent.switchCommit({id: begun.id})
    agent.close()
    // Then the profile gains generation 2 pointing at the target
    expect(committed).toMatchObject({status: 'committed', target_generation: 2})
    expect(realpathSync(host.profile)).toBe(next)
    // And the commit is ledgered under the agent
    const ledger = openLedger(env.paths.ledgerDb, {readonly: true})
    const event = ledger.query({type: 'switch.committed', limit: 10, order: 'asc'}).find((e) => e.payload.switch_id === begun.id)
    ledger.close()
    expect(event).toMatchObject({actor: 'agent:ops', payload: {target_generation: 2}})
  }, 60_000)

  it('after a SIGKILL during probation, a restarted watch resumes with the persisted deadline (commits) or, past it with failing checks, rolls back', async () => {
    // Given two installations, each with a session in probation (TTL 30 s)
    const other = await setup()
    try {
      const good = host.system('serve', 'R1')
      const bad = other.host.system('serve', 'R2')
      const first = await watch().switchBegin({plan: 'survive a crash', target: {type: 'nixos', source: {store_path: good}}, health_checks: [host.check], ttl_secs: 30, ...fast})
      const second = await other.env
        .client('watch', watchApi)
        .switchBegin({plan: 'crash then fail', target: {type: 'nixos', source: {store_path: bad}}, health_checks: [other.host.check], ttl_secs: 30, failure_threshold: 100, ...fast})
      const inProbation = await until(first.id, (s) => s.status === 'probation' && s.last_check_at !== null)
      const otherProbation = await until(second.id, (s) => s.status === 'probation' && s.last_check_at !== null, 60_000, other.env)
      // When watch is SIGKILLed in both
      await daemons[1]!.stop('SIGKILL')
      await other.daemons[1]!.stop('SIGKILL')
      // And in the second the service dies while watch is down, and the TTL passes before watch starts again
      other.host.stopService()
      daemons[1] = await env.start('watch', host.watchEnv)
      await new Promise((r) => setTimeout(r, Date.parse(otherProbation.probation_ends_at as string) - Date.now() + 500))
      other.daemons[1] = await other.env.start('watch', other.host.watchEnv)
      // Then the first resumes and commits at its original deadline
      const committed = await until(first.id, (s) => FINAL_STATUSES.includes(s.status))
      expect(committed).toMatchObject({status: 'committed', probation_ends_at: inProbation.probation_ends_at, activated_at: inProbation.activated_at, target_generation: 2})
      expect(Date.parse(committed.ended_at as string)).toBeGreaterThanOrEqual(Date.parse(inProbation.probation_ends_at as string))
      expect(story(first.id)).toEqual(['switch.began', 'switch.activated', 'switch.resumed', 'switch.committed'])
      // And the second, past its TTL without a passing verdict, rolls back to the recorded system
      const rolled = await until(second.id, (s) => FINAL_STATUSES.includes(s.status), 60_000, other.env)
      expect(rolled.status, rolled.reason ?? '').toBe('rolled_back')
      expect(rolled.reason).toMatch(/probation ended with failing checks/)
      expect(other.host.current()).toBe(rolled.previous_system)
      expect(story(second.id, other.env)).toEqual(['switch.began', 'switch.activated', 'switch.resumed', 'switch.check_failed', 'switch.rolling_back', 'switch.rolled_back'])
    } finally {
      await teardown(other)
    }
  }, 120_000)

  it('marks a session rolled back (reboot_during_probation) when the running system is no longer the target after a restart', async () => {
    const next = host.system('serve', 'S')
    const begun = await watch().switchBegin({plan: 'then reboot', target: {type: 'nixos', source: {store_path: next}}, health_checks: [host.check], ttl_secs: 300, ...fast})
    await until(begun.id, (s) => s.status === 'probation')
    // When the host "reboots" into the boot default (the previous system) while watch is down
    await daemons[1]!.stop('SIGKILL')
    host.activate(initial)
    daemons[1] = await env.start('watch', host.watchEnv)
    // Then the session is rolled back with that reason and nothing is activated again
    const session = await until(begun.id, (s) => FINAL_STATUSES.includes(s.status))
    expect(session).toMatchObject({status: 'rolled_back', reason: 'reboot_during_probation'})
    expect(story(begun.id)).toEqual(['switch.began', 'switch.activated', 'switch.rolled_back'])
  }, 60_000)

  it('after a SIGKILL during activation, a restarted watch stops the orphaned activation and rolls back to the recorded system', async () => {
    // Given a system whose activation takes 6 s before it changes anything
    const slow = host.system('slow', 'T')
    const begun = await watch().switchBegin({plan: 'slow activation', target: {type: 'nixos', source: {store_path: slow}}, health_checks: [host.check], ...fast})
    await until(begun.id, (s) => s.status === 'activating')
    await new Promise((r) => setTimeout(r, 300))
    // When watch is SIGKILLed mid-activation and started again
    await daemons[1]!.stop('SIGKILL')
    daemons[1] = await env.start('watch', host.watchEnv)
    // Then the session is rolled back to A
    const session = await until(begun.id, (s) => FINAL_STATUSES.includes(s.status))
    expect(session).toMatchObject({status: 'rolled_back', reason: 'watch restarted during activation'})
    // And the old activation never completes afterwards: A is still running once its 6 s have passed
    await new Promise((r) => setTimeout(r, 6500))
    expect(host.current()).toBe(initial)
    expect(story(begun.id)).toEqual(['switch.began', 'switch.rolling_back', 'switch.rolled_back'])
  }, 60_000)

  it('a SIGTERM during activation stops watch at once, and the next start rolls the interrupted switch back', async () => {
    const slow = host.system('slow', 'U')
    const begun = await watch().switchBegin({plan: 'stop me', target: {type: 'nixos', source: {store_path: slow}}, health_checks: [host.check], ...fast})
    await until(begun.id, (s) => s.status === 'activating')
    // When watch is asked to stop mid-activation
    const started = Date.now()
    await daemons[1]!.stopClean()
    // Then it exits cleanly without waiting for the 6 s activation, leaving the session to resume
    expect(Date.now() - started).toBeLessThan(5000)
    daemons[1] = await env.start('watch', host.watchEnv)
    const session = await until(begun.id, (s) => FINAL_STATUSES.includes(s.status))
    expect(session).toMatchObject({status: 'rolled_back', reason: 'watch restarted during activation'})
    expect(host.current()).toBe(initial)
  }, 60_000)

  it.skipIf(installed('nixos-rebuild'))('refuses flake and config targets with 503 NIX_UNAVAILABLE where nixos-rebuild is missing', async () => {
    for (const source of [{flake: '/etc/nixos#web1'}, {config: true as const}]) {
      await expect(watch().switchBegin({plan: 'needs a build', target: {type: 'nixos', source}})).rejects.toMatchObject({code: 'NIX_UNAVAILABLE'})
    }
    expect((await watch().switchList()).switches).toEqual([])
  })
})
