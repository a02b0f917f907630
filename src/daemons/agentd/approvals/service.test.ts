import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {migrate, openDatabase, type Db} from '../../../lib/db/open.js'
import {OsmodaError} from '../../../lib/errors.js'
import {openLedger, type Ledger} from '../../../lib/ledger/ledger.js'
import {silentLogger} from '../../../lib/log.js'
import {AGENTD_MIGRATIONS} from '../store.js'
import {createApprovalService, operationDigest, type ApprovalService, type ApprovalSettings} from './service.js'
import {createApprovalStore} from './store.js'
import {knownOperations, resolveToolCall} from './resolve.js'

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0)
const AGENT = {role: 'agent' as const, actor: 'agent:ops'}
const OTHER_AGENT = {role: 'agent' as const, actor: 'agent:intruder'}
const OPERATOR = {role: 'operator' as const, actor: 'operator:alice'}

let dir: string
let db: Db
let ledger: Ledger
let clock: number
let settings: ApprovalSettings
let approvals: ApprovalService

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-approvals-'))
  db = openDatabase(join(dir, 'agentd.db'))
  migrate(db, AGENTD_MIGRATIONS)
  ledger = openLedger(join(dir, 'ledger.db'))
  clock = T0
  settings = {ttlSecs: 600, useWindowSecs: 900, maxPendingPerAgent: 20, rules: {}}
  approvals = createApprovalService({
    store: createApprovalStore(db),
    ledger,
    settings: () => settings,
    rulesFile: join(dir, 'approval-rules.json'),
    resolveTool: (tool, args) => resolveToolCall(tool, args),
    knownOperations: () => knownOperations(),
    log: silentLogger,
    now: () => clock,
  })
})

afterEach(() => {
  db.close()
  ledger.close()
  rmSync(dir, {recursive: true, force: true})
})

const hostRm = {command: 'rm -rf /srv/cache', mode: 'host', shell: false, cwd: '/tmp', timeout_secs: 30, max_output_bytes: 65536}
const gateHost = (ctx: {role: 'agent' | 'operator'; actor: string}, body: Record<string, unknown>, approvalId?: string) =>
  approvals.gate.check({operation: 'shell_exec', method: 'POST', path: '/shell/exec', body, ctx, summary: `host: ${String(body.command)}`, approvalId})

/** Runs a gate check and returns the OsmodaError it throws (fails the test if it allows). */
function refusal(fn: () => unknown): OsmodaError {
  try {
    fn()
  } catch (error) {
    if (error instanceof OsmodaError) return error
    throw error
  }
  throw new Error('expected the gate to refuse')
}

const approvalIdOf = (error: OsmodaError): string => (error.details as {approval_id: string}).approval_id
const types = () => ledger.query({limit: 1000, order: 'asc'}).map((e) => e.type)

describe('the approval gate', () => {
  it('lets an operator through without recording anything', () => {
    expect(gateHost(OPERATOR, hostRm)).toEqual({decision: 'allow', approval_id: null, reason: 'operator'})
    expect(ledger.size()).toBe(0)
  })

  it('opens one pending approval per digest and agent, answers 412 with it, and lets exactly that call through once after approval', () => {
    // Given an agent's gated host command
    const first = refusal(() => gateHost(AGENT, hostRm))
    expect(first.code).toBe('APPROVAL_REQUIRED')
    expect(first.httpStatus).toBe(412)
    const id = approvalIdOf(first)
    expect(first.details).toMatchObject({approval_id: id, operation: 'shell_exec', summary: 'host: rm -rf /srv/cache'})
    // When it repeats the call before a decision, the same approval comes back (no pile-up)
    expect(approvalIdOf(refusal(() => gateHost(AGENT, hostRm)))).toBe(id)
    // And repeating with the pending approval's id is refused as pending, nothing runs
    expect(refusal(() => gateHost(AGENT, hostRm, id)).details).toMatchObject({reason: 'pending'})
    // When the operator approves
    const approved = approvals.approve(id, 'ok', 'operator:alice')
    expect(approved).toMatchObject({status: 'approved', decided_by: 'operator:alice', note: 'ok'})
    // Then the same call with the approval id is allowed, once
    expect(gateHost(AGENT, hostRm, id)).toEqual({decision: 'allow', approval_id: id, reason: 'approved'})
    expect(refusal(() => gateHost(AGENT, hostRm, id)).details).toMatchObject({reason: 'consumed'})
    expect(approvals.get(id)).toMatchObject({status: 'consumed', consumed_at: new Date(T0).toISOString(), body: {command: 'rm -rf /srv/cache'}})
    expect(types()).toEqual(['approval.requested', 'approval.approved', 'approval.consumed'])
  })

  it('refuses an approval for a different request, for another agent, and after its use window', () => {
    // Given an approved host command
    const id = approvalIdOf(refusal(() => gateHost(AGENT, hostRm)))
    approvals.approve(id, undefined, 'operator:alice')
    // Then a different command, a changed option, and another agent cannot use it
    expect(refusal(() => gateHost(AGENT, {...hostRm, command: 'rm -rf /'}, id)).details).toMatchObject({reason: 'digest_mismatch'})
    expect(refusal(() => gateHost(AGENT, {...hostRm, timeout_secs: 31}, id)).details).toMatchObject({reason: 'digest_mismatch'})
    expect(refusal(() => gateHost(OTHER_AGENT, hostRm, id)).details).toMatchObject({reason: 'actor_mismatch'})
    // And none of those attempts used it up: the right call still works within the window...
    // ...but not after it: 900 s after the decision the approval has lapsed
    clock = T0 + 900_000
    const late = refusal(() => gateHost(AGENT, hostRm, id))
    expect(late).toMatchObject({code: 'APPROVAL_INVALID'})
    expect(late.details).toMatchObject({reason: 'expired'})
    expect(approvals.get(id).status).toBe('expired')
    expect(types()).toContain('approval.expired')
  })

  it('ignores an approval_id smuggled in the body for a different digest and an unknown id', () => {
    expect(refusal(() => gateHost(AGENT, hostRm, 'apr_01JDX8Q4S1T6V0W7Y2Z3A4B5C6')).details).toMatchObject({reason: 'unknown'})
    // approval_id inside the body is read as the presented approval, and is not part of the digest
    const id = approvalIdOf(refusal(() => gateHost(AGENT, hostRm)))
    approvals.approve(id, undefined, 'operator:alice')
    expect(gateHost(AGENT, {...hostRm, approval_id: id})).toMatchObject({reason: 'approved'})
  })

  it('a denied approval never allows the call', () => {
    const id = approvalIdOf(refusal(() => gateHost(AGENT, hostRm)))
    expect(approvals.deny(id, 'no', 'operator:alice')).toMatchObject({status: 'denied'})
    expect(refusal(() => gateHost(AGENT, hostRm, id)).details).toMatchObject({reason: 'denied'})
    expect(() => approvals.approve(id, undefined, 'operator:alice')).toThrow(expect.objectContaining({code: 'CONFLICT'}))
  })

  it('cannot approve a pending approval after its ttl (412) and the sweeper marks lapsed ones', () => {
    const id = approvalIdOf(refusal(() => gateHost(AGENT, hostRm)))
    const other = approvalIdOf(refusal(() => gateHost(AGENT, {...hostRm, command: 'reboot'})))
    clock = T0 + 600_000
    expect(() => approvals.approve(id, undefined, 'operator:alice')).toThrow(expect.objectContaining({code: 'PRECONDITION_FAILED', httpStatus: 412}))
    expect(approvals.get(id).status).toBe('expired')
    expect(approvals.sweep()).toBe(1)
    expect(approvals.get(other).status).toBe('expired')
    expect(approvals.pending().approvals).toEqual([])
  })

  it('caps pending approvals per agent at maxPendingPerAgent with 429', () => {
    settings.maxPendingPerAgent = 3
    for (let i = 0; i < 3; i++) refusal(() => gateHost(AGENT, {...hostRm, command: `echo ${i}`}))
    expect(refusal(() => gateHost(AGENT, {...hostRm, command: 'echo 4'}))).toMatchObject({code: 'RATE_LIMITED', httpStatus: 429})
    // Another agent has its own budget
    expect(refusal(() => gateHost(OTHER_AGENT, {...hostRm, command: 'echo 4'})).code).toBe('APPROVAL_REQUIRED')
  })

  it('follows the rules: never lets through, policy follows the daemon hint and gates without one, overrides persist', async () => {
    const check = (operation: string, hint?: 'required' | 'not_required') =>
      approvals.gate.check({operation, method: 'POST', path: '/x', body: {}, ctx: AGENT, summary: operation, hint})
    expect(check('system_query')).toMatchObject({reason: 'rule_never'})
    expect(check('file_write', 'not_required')).toMatchObject({reason: 'not_required'})
    expect(refusal(() => check('file_write', 'required')).code).toBe('APPROVAL_REQUIRED')
    expect(refusal(() => check('file_write')).code).toBe('APPROVAL_REQUIRED')
    // When the operator makes shell_exec ungated and file_write always gated
    await approvals.setRules({shell_exec: 'never', file_write: 'always'}, 'operator:alice')
    expect(gateHost(AGENT, hostRm)).toMatchObject({reason: 'rule_never'})
    expect(refusal(() => check('file_write', 'not_required')).code).toBe('APPROVAL_REQUIRED')
    expect(approvals.rules().rules).toMatchObject({shell_exec: 'never', file_write: 'always', safety_panic: 'always'})
    expect(types()).toContain('approval.rules_changed')
    // And an unknown operation is refused without touching the file
    await expect(approvals.setRules({shel_exec: 'never'}, 'operator:alice')).rejects.toThrow(expect.objectContaining({code: 'VALIDATION_FAILED'}))
    expect(approvals.rules().rules.shell_exec).toBe('never')
  })

  it('falls back to the defaults (which gate) when the overrides file is damaged', async () => {
    await approvals.setRules({shell_exec: 'never'}, 'operator:alice')
    writeFileSync(join(dir, 'approval-rules.json'), '{not json')
    expect(refusal(() => gateHost(AGENT, hostRm)).code).toBe('APPROVAL_REQUIRED')
  })

  it('the gate route of other daemons binds to their daemon, method and path', () => {
    const input = {operation: 'wallet_send', daemon: 'keyd', method: 'POST' as const, path: '/wallet/send', body: {to: '0xabc', amount: '1'}, actor: 'agent:ops', summary: 'send 1'}
    expect(approvals.gateRoute({...input, hint: 'not_required'})).toMatchObject({reason: 'not_required'})
    const id = approvalIdOf(refusal(() => approvals.gateRoute({...input, hint: 'required'})))
    approvals.approve(id, undefined, 'operator:alice')
    expect(refusal(() => approvals.gateRoute({...input, hint: 'required', path: '/wallet/sign', approval_id: id})).details).toMatchObject({reason: 'digest_mismatch'})
    expect(approvals.gateRoute({...input, hint: 'required', approval_id: id})).toMatchObject({reason: 'approved', approval_id: id})
  })
})

describe('approval_request', () => {
  it('resolves a tool call to the digest its gate will check, defaults filled in', async () => {
    // Given the agent asks up front for a call (any tool resolves the same way; incident_create has defaults to fill)
    const asked = await approvals.request({reason: 'track the outage', tool: 'incident_create', arguments: {name: 'nginx down'}, ttl_secs: 120}, AGENT)
    expect(asked).toMatchObject({status: 'pending', operation: 'incident_create', reason: 'track the outage', actor: 'agent:ops'})
    expect(Date.parse(asked.expires_at) - T0).toBe(120_000)
    // Then its digest is the one of the route body with every default, as the route hands it to the gate
    const resolved = resolveToolCall('incident_create', {name: 'nginx down'})
    expect(resolved).toEqual({daemon: 'agentd', method: 'POST', path: '/incident/create', body: {name: 'nginx down', severity: 'medium'}})
    expect(asked.digest).toBe(operationDigest(resolved))
    // And a gated call with that body finds the same pending approval instead of opening another
    const check = () => approvals.gate.check({operation: 'incident_create', method: 'POST', path: '/incident/create', body: resolved.body, ctx: AGENT, summary: 's', hint: 'required'})
    await approvals.setRules({incident_create: 'policy'}, 'operator:alice')
    expect(approvalIdOf(refusal(check))).toBe(asked.id)
  })

  it('resolves a tool whose action picks the route to that route, without the action', () => {
    expect(resolveToolCall('agent_card', {action: 'generate', name: 'ops'})).toEqual({daemon: 'agentd', method: 'POST', path: '/agent/card/generate', body: {name: 'ops'}})
  })

  it('fills path parameters from the arguments', () => {
    expect(resolveToolCall('incident_step', {id: 'inc_01JDX8Q4S1T6V0W7Y2Z3A4B5C6', action: 'a', result: 'r'})).toMatchObject({
      path: '/incident/inc_01JDX8Q4S1T6V0W7Y2Z3A4B5C6/step',
      body: {id: 'inc_01JDX8Q4S1T6V0W7Y2Z3A4B5C6', action: 'a', result: 'r', resolve: false},
    })
  })

  it('refuses an unknown tool, arguments the tool rejects, and operators', async () => {
    await expect(approvals.request({reason: 'x', tool: 'no_such_tool', arguments: {}, ttl_secs: 600}, AGENT)).rejects.toThrow(/unknown tool/)
    await expect(approvals.request({reason: 'x', tool: 'incident_create', arguments: {name: ''}, ttl_secs: 600}, AGENT)).rejects.toThrow(/do not fit/)
    await expect(approvals.request({reason: 'x', tool: 'incident_create', arguments: {name: 'n'}, ttl_secs: 600}, OPERATOR)).rejects.toThrow(/agents/)
  })
})
