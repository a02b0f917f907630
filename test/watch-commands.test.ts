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

  it('answers 503 DAEMON_UNAVAILABLE to a gated agent request while agentd is down', async () => {
    await agentd?.stopClean()
    agentd = null
    const {target} = change('good')
    const agent = env.client('watch', watchApi, 'agent', {'x-osmoda-agent-id': 'ops'})
    await expect(agent.switchBegin({plan: 'no gate', target})).rejects.toMatchObject({code: 'DAEMON_UNAVAILABLE'})
    agent.close()
  })
})
