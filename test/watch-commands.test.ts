// SafeSwitch `commands` targets (non-Nix changes with apply/revert argv) and the approval gate for
// the agent's safe_switch_begin, with real agentd and watch daemons.
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {FINAL_STATUSES, watchApi, type SwitchSession} from '../src/daemons/watch/api.js'
import {openLedger} from '../src/lib/ledger/ledger.js'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'

let env: TestEnv
let agentd: DaemonProcess | null
let watch: DaemonProcess

beforeEach(async () => {
  env = await testEnv()
  agentd = await env.start('agentd')
  watch = await env.start('watch', {OSMODA_WATCH_CURRENT_SYSTEM_LINK: join(env.base, 'no-link')})
})

afterEach(async () => {
  await watch.stopClean()
  await agentd?.stopClean()
  await env.cleanup()
})

async function until(id: string, done: (s: SwitchSession) => boolean): Promise<SwitchSession> {
  const client = env.client('watch', watchApi)
  const deadline = Date.now() + 30_000
  for (;;) {
    const session = await client.switchGet({id})
    if (done(session)) return session
    if (Date.now() > deadline) throw new Error(`switch ${id} stuck in ${session.status}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** A change that writes `value` into a file that holds "good", reverted by writing "good" back, checked by grepping for "good". */
function change(value: string) {
  const file = join(env.base, 'setting')
  writeFileSync(file, 'good\n')
  return {
    file,
    target: {
      type: 'commands' as const,
      apply: [{command: '/bin/sh', args: ['-c', `echo ${value} > ${file}`]}],
      revert: [{command: '/bin/sh', args: ['-c', `echo good > ${file}`]}],
    },
    check: {type: 'command' as const, command: '/bin/grep', args: ['-q', 'good', file]},
  }
}

const story = (id: string) => {
  const ledger = openLedger(env.paths.ledgerDb, {readonly: true})
  try {
    return ledger
      .query({type: 'switch.*', limit: 100, order: 'asc'})
      .filter((e) => e.payload.switch_id === id)
      .map((e) => [e.type, e.actor])
  } finally {
    ledger.close()
  }
}

describe('commands targets', () => {
  it('reverts in reverse order when the check fails after apply', async () => {
    // Given a change whose check will fail
    const {file, target, check} = change('bad')
    target.revert.unshift({command: '/bin/sh', args: ['-c', `cat ${file} >> ${file}.log`]})
    // When it is switched with threshold 2
    const begun = await env.client('watch', watchApi).switchBegin({plan: 'bad setting', target, health_checks: [check], grace_secs: 0, check_interval_secs: 1, failure_threshold: 2})
    const session = await until(begun.id, (s) => FINAL_STATUSES.includes(s.status))
    // Then the revert steps ran last first: the restore, then the log line that saw the restored value
    expect(session.status, session.reason ?? '').toBe('rolled_back')
    expect(readFileSync(file, 'utf8')).toBe('good\n')
    expect(readFileSync(`${file}.log`, 'utf8')).toBe('good\n')
    expect(session.last_check_results).toMatchObject([{ok: true}, {ok: true}, {ok: true}])
    expect(session.previous_system).toBeNull()
    // And the story is ledgered, the begin under the operator and the automatic steps under watch
    const events = story(begun.id)
    expect(events.map(([type]) => type)).toEqual(['switch.began', 'switch.activated', 'switch.check_failed', 'switch.rolling_back', 'switch.rolled_back'])
    expect(events[0]?.[1]).toMatch(/^operator:/)
    expect(events.slice(1).every(([, actor]) => actor === 'watch')).toBe(true)
  }, 40_000)

  it('does not count failures inside the grace period', async () => {
    // Given a change whose check fails from the start, with 3 s of grace and a threshold of 1
    const {target, check} = change('bad')
    const begun = await env.client('watch', watchApi).switchBegin({plan: 'grace', target, health_checks: [check], grace_secs: 3, check_interval_secs: 1, failure_threshold: 1, baseline_checks: false})
    const session = await until(begun.id, (s) => FINAL_STATUSES.includes(s.status))
    // Then the failing ticks inside the grace did not roll back: the first counted failure came after it
    expect(session.status).toBe('rolled_back')
    const ledger = openLedger(env.paths.ledgerDb, {readonly: true})
    const failed = ledger.query({type: 'switch.check_failed', limit: 10, order: 'asc'}).find((e) => e.payload.switch_id === begun.id)
    ledger.close()
    expect(Date.parse(failed!.ts) - Date.parse(session.activated_at as string)).toBeGreaterThanOrEqual(3000)
  }, 30_000)

  it('reload picks up new probation defaults for the next switch', async () => {
    const {target} = change('good')
    writeFileSync(join(env.paths.configDir, 'watch.json'), JSON.stringify({probation: {ttlSecs: 45, checkIntervalSecs: 300}}))
    expect(await env.client('watch', watchApi).reload()).toEqual({reloaded: true, changed: ['probation']})
    const begun = await env.client('watch', watchApi).switchBegin({plan: 'defaults', target, baseline_checks: false})
    expect(begun).toMatchObject({ttl_secs: 45, check_interval_secs: 300, grace_secs: 30, failure_threshold: 3})
    await until(begun.id, (s) => s.status === 'probation')
    await env.client('watch', watchApi).switchRollback({id: begun.id})
  })

  it('ledgers a target too big for an event as its digest and size', async () => {
    const step = {command: '/bin/true', args: Array(64).fill('x'.repeat(400))}
    const target = {type: 'commands' as const, apply: Array(32).fill(step), revert: [{command: '/bin/true', args: []}]}
    const begun = await env.client('watch', watchApi).switchBegin({plan: 'big', target, baseline_checks: false, check_interval_secs: 300})
    const ledger = openLedger(env.paths.ledgerDb, {readonly: true})
    const began = ledger.query({type: 'switch.began', limit: 10, order: 'asc'}).find((e) => e.payload.switch_id === begun.id)
    ledger.close()
    expect(began?.payload.target).toMatchObject({type: 'commands', target_sha256: expect.stringMatching(/^[0-9a-f]{64}$/), target_bytes: expect.any(Number)})
    await until(begun.id, (s) => s.status === 'probation')
    expect((await env.client('watch', watchApi).switchRollback({id: begun.id})).status).toBe('rolled_back')
  }, 30_000)

  it('a revert that fails ends rollback_failed, notifies the operator and degrades watch health', async () => {
    const {target, check} = change('bad')
    target.revert = [{command: '/bin/false', args: []}]
    const begun = await env.client('watch', watchApi).switchBegin({plan: 'cannot undo', target, health_checks: [check], grace_secs: 0, check_interval_secs: 1, failure_threshold: 1, baseline_checks: false})
    const session = await until(begun.id, (s) => FINAL_STATUSES.includes(s.status))
    expect(session.status).toBe('rollback_failed')
    expect(session.reason).toMatch(/rollback failed: revert \/bin\/false: exit 1; check after rollback failed/)
    const ledger = openLedger(env.paths.ledgerDb, {readonly: true})
    const notes = ledger.query({type: 'notification.requested', limit: 10, order: 'asc'})
    ledger.close()
    expect(notes.map((e) => [e.actor, e.payload.severity, e.payload.title])).toEqual([['watch', 'critical', `switch ${begun.id}: rollback failed`]])
    expect(story(begun.id).map(([type]) => type)).toEqual(['switch.began', 'switch.activated', 'switch.check_failed', 'switch.rolling_back', 'switch.rollback_failed'])
    const health = await env.client('watch', watchApi).health()
    expect(health.status).toBe('degraded')
    expect(health.problems?.[0]).toMatch(new RegExp(`^switch ${begun.id} could not be rolled back`))
  }, 30_000)

  it('rolls back without probation when an apply step fails', async () => {
    const {file, target} = change('good')
    target.apply.push({command: '/bin/false', args: []})
    const begun = await env.client('watch', watchApi).switchBegin({plan: 'apply fails', target, baseline_checks: false})
    const session = await until(begun.id, (s) => FINAL_STATUSES.includes(s.status))
    expect(session.status).toBe('rolled_back')
    expect(session.reason).toMatch(/apply failed \(\/bin\/false: exit 1\)/)
    expect(readFileSync(file, 'utf8')).toBe('good\n')
  })

  it('an agent commit is refused (412) until a check has passed', async () => {
    const {target, check} = change('good')
    // Given a session in probation whose first tick is 300 s away: no check has passed yet
    const begun = await env.client('watch', watchApi).switchBegin({plan: 'slow ticks', target, health_checks: [check], check_interval_secs: 300, ttl_secs: 600})
    await until(begun.id, (s) => s.status === 'probation')
    const agent = env.client('watch', watchApi, 'agent', {'x-osmoda-agent-id': 'ops'})
    await expect(agent.switchCommit({id: begun.id})).rejects.toMatchObject({code: 'PRECONDITION_FAILED'})
    // The operator may commit at any time in probation
    expect(await env.client('watch', watchApi).switchCommit({id: begun.id})).toMatchObject({status: 'committed', target_generation: null})
    agent.close()
  })
})

describe('approval gate for the agent', () => {
  it('returns agentd’s 412 APPROVAL_REQUIRED unchanged, then runs the approved identical request once', async () => {
    const {target, check} = change('good')
    const agent = env.client('watch', watchApi, 'agent', {'x-osmoda-agent-id': 'ops'})
    const body = {plan: 'gated change', target, health_checks: [check], grace_secs: 0, check_interval_secs: 1}
    // When the agent begins a switch
    const required = await agent.switchBegin(body).catch((e: unknown) => e)
    // Then it gets agentd's APPROVAL_REQUIRED with the approval's details, and nothing started
    expect(required).toMatchObject({code: 'APPROVAL_REQUIRED', details: {operation: 'safe_switch_begin'}})
    const approvalId = (required as {details: {approval_id: string}}).details.approval_id
    expect((await env.client('watch', watchApi).switchList()).switches).toEqual([])
    // When the operator approves and the agent repeats the same request with the id
    await env.client('agentd', agentdApi).approvalApprove({id: approvalId})
    const begun = await agent.switchBegin({...body, approval_id: approvalId})
    // Then it runs, attributed to the agent
    expect(begun).toMatchObject({status: 'building', actor: 'agent:ops'})
    await until(begun.id, (s) => s.status === 'probation')
    await env.client('watch', watchApi).switchRollback({id: begun.id, reason: 'test over'})
    // And the approval is single use; a different body is a digest mismatch
    await expect(agent.switchBegin({...body, approval_id: approvalId})).rejects.toMatchObject({code: 'APPROVAL_INVALID'})
    agent.close()
  }, 40_000)

  it('an approval asked for up front with approval_request matches the later safe_switch_begin call', async () => {
    const {target} = change('good')
    const args = {plan: 'asked first', target, baseline_checks: false}
    // Given the agent asks agentd up front for exactly this call, and the operator approves
    const agentAtAgentd = env.client('agentd', agentdApi, 'agent', {'x-osmoda-agent-id': 'ops'})
    const approval = await agentAtAgentd.approvalRequest({reason: 'tune a setting', tool: 'safe_switch_begin', arguments: args})
    expect(approval).toMatchObject({operation: 'safe_switch_begin', daemon: 'watch', path: '/switch/begin', status: 'pending'})
    await env.client('agentd', agentdApi).approvalApprove({id: approval.id})
    // When the agent makes the call with the approval id
    const agent = env.client('watch', watchApi, 'agent', {'x-osmoda-agent-id': 'ops'})
    const begun = await agent.switchBegin({...args, approval_id: approval.id})
    // Then it runs: the digest watch sends equals the one agentd resolved from the tool call
    expect(begun.actor).toBe('agent:ops')
    await until(begun.id, (s) => s.status === 'probation')
    // And the operator's CLI shows and rolls it back
    const status = await env.cli(['switch', 'status', begun.id, '--json'])
    expect(status.json.result).toMatchObject({id: begun.id, status: 'probation'})
    const listed = await env.cli(['switch', 'list', '--status', 'probation', '--json'])
    expect(listed.json.result.switches.map((s: {id: string}) => s.id)).toEqual([begun.id])
    const rolled = await env.cli(['switch', 'rollback', begun.id, '--reason', 'done', '--json'])
    expect(rolled.exitCode, rolled.stderr).toBe(0)
    expect(rolled.json.result).toMatchObject({status: 'rolled_back', reason: 'done'})
    const again = await env.cli(['switch', 'commit', begun.id, '--json'])
    expect(again.exitCode).toBe(1)
    expect(again.json.error).toMatchObject({code: 'CONFLICT', details: {state: 'rolled_back'}})
    agent.close()
    agentAtAgentd.close()
  }, 40_000)

  it('answers 503 DAEMON_UNAVAILABLE to a gated agent request while agentd is down', async () => {
    await agentd?.stopClean()
    agentd = null
    const {target} = change('good')
    const agent = env.client('watch', watchApi, 'agent', {'x-osmoda-agent-id': 'ops'})
    await expect(agent.switchBegin({plan: 'no gate', target})).rejects.toMatchObject({code: 'DAEMON_UNAVAILABLE'})
    agent.close()
  })
})
