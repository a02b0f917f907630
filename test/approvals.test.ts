import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {badInputTable, socketSender, type BadInputCase} from './helpers/bad-input.js'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'

let env: TestEnv
let agentd: DaemonProcess

beforeAll(async () => {
  env = await testEnv()
  agentd = await env.start('agentd')
})

afterAll(async () => {
  await agentd?.stopClean()
  await env?.cleanup()
})

/** What another daemon (keyd, watch, …) sends to the gate for an agent's request. */
const gateCall = (body: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  operation: 'wallet_send',
  daemon: 'keyd',
  method: 'POST' as const,
  path: '/wallet/send',
  body,
  actor: 'agent:ops',
  summary: `send ${String(body.amount)} to ${String(body.to)}`,
  hint: 'required' as const,
  ...extra,
})

describe('approvals end to end', () => {
  it('the operator decides with the CLI; the agent can only ask, look, and use an approval once', async () => {
    // Given a daemon's gate call for an agent request: 412 with a pending approval
    const daemon = env.client('agentd', agentdApi)
    const agent = env.client('agentd', agentdApi, 'agent', {'x-osmoda-agent-id': 'ops'})
    const call = gateCall({to: '0xabc', amount: '1.5'})
    const required = await daemon.approvalGate(call).catch((e: unknown) => e)
    expect(required).toMatchObject({code: 'APPROVAL_REQUIRED', details: {operation: 'wallet_send', summary: 'send 1.5 to 0xabc'}})
    const id = (required as {details: {approval_id: string}}).details.approval_id
    // When the operator lists and shows it with the CLI
    const list = await env.cli(['approval', 'list', '--json'])
    expect(list.exitCode, list.stderr).toBe(0)
    expect(JSON.parse(list.stdout).result.approvals.map((a: {id: string}) => a.id)).toContain(id)
    const show = await env.cli(['approval', 'show', id])
    expect(show.stdout).toContain('send 1.5 to 0xabc')
    expect(show.stdout).toContain('"to": "0xabc"')
    // Then the agent token can neither approve, deny, change the rules nor read the audit list
    await expect(agent.approvalApprove({id})).rejects.toMatchObject({code: 'FORBIDDEN'})
    await expect(agent.approvalDeny({id})).rejects.toMatchObject({code: 'FORBIDDEN'})
    await expect(agent.approvalRulesPut({rules: {wallet_send: 'never'}})).rejects.toMatchObject({code: 'FORBIDDEN'})
    await expect(agent.approvalList()).rejects.toMatchObject({code: 'FORBIDDEN'})
    await expect(agent.approvalGate(call)).rejects.toMatchObject({code: 'FORBIDDEN'})
    // But it sees the pending approval and its state
    expect((await agent.approvalPending()).approvals.map((a) => a.id)).toContain(id)
    expect(await agent.approvalGet({id})).toMatchObject({status: 'pending', body: {to: '0xabc', amount: '1.5'}})
    // When the operator approves with a note
    const approved = await env.cli(['approval', 'approve', id, '--note', 'ok once', '--json'])
    expect(approved.exitCode, approved.stderr).toBe(0)
    expect(JSON.parse(approved.stdout).result).toMatchObject({id, status: 'approved', note: 'ok once'})
    // Then the same request with the approval is allowed once; another body or a second use is not
    await expect(daemon.approvalGate({...call, body: {to: '0xevil', amount: '1.5'}, approval_id: id})).rejects.toMatchObject({code: 'APPROVAL_INVALID', details: {reason: 'digest_mismatch'}})
    await expect(daemon.approvalGate({...call, actor: 'agent:other', approval_id: id})).rejects.toMatchObject({code: 'APPROVAL_INVALID', details: {reason: 'actor_mismatch'}})
    expect(await daemon.approvalGate({...call, approval_id: id})).toEqual({decision: 'allow', approval_id: id, reason: 'approved'})
    await expect(daemon.approvalGate({...call, approval_id: id})).rejects.toMatchObject({code: 'APPROVAL_INVALID', details: {reason: 'consumed'}})
    // And deciding it again is a conflict with exit code 1 and the state named
    const again = await env.cli(['approval', 'deny', id])
    expect(again.exitCode).toBe(1)
    expect(again.stderr).toMatch(/consumed/)
    // And every step is in the ledger, the decision under the operator's name
    const {events} = await daemon.eventsLog({type: 'approval.*', limit: 20, order: 'asc'})
    const mine = events.filter((e) => e.payload.approval_id === id)
    expect(mine.map((e) => e.type)).toEqual(['approval.requested', 'approval.approved', 'approval.consumed'])
    expect(mine[1]?.actor).toMatch(/^operator:/)
    daemon.close()
    agent.close()
  })

  it('changes rules only through the operator, persisting them across a restart', async () => {
    const set = await env.cli(['approval', 'rules', '--set', 'wallet_send=never', '--json'])
    expect(set.exitCode, set.stderr).toBe(0)
    expect(JSON.parse(set.stdout).result.rules).toMatchObject({wallet_send: 'never', shell_exec: 'always'})
    const bad = await env.cli(['approval', 'rules', '--set', 'wallet_send=sometimes'])
    expect(bad.exitCode).toBe(2)
    const unknown = await env.cli(['approval', 'rules', '--set', 'no_such_tool=never'])
    expect(unknown.exitCode).toBe(2)
    expect(unknown.stderr).toMatch(/unknown operation no_such_tool/)
    await agentd.stopClean()
    agentd = await env.start('agentd')
    const daemon = env.client('agentd', agentdApi)
    expect(await daemon.approvalGate(gateCall({to: '0x1', amount: '2'}))).toMatchObject({reason: 'rule_never'})
    expect((await daemon.approvalRulesGet()).rules.wallet_send).toBe('never')
    await env.cli(['approval', 'rules', '--reset'])
    await expect(daemon.approvalGate(gateCall({to: '0x1', amount: '2'}))).rejects.toMatchObject({code: 'APPROVAL_REQUIRED'})
    daemon.close()
  })
})

const json = (value: unknown) => JSON.stringify(value)
const ID = 'apr_01JDX8Q4S1T6V0W7Y2Z3A4B5C6'
const gate = gateCall({to: '0x1', amount: '1'})

const cases: BadInputCase[] = [
  // POST /approval/request
  {name: 'request malformed JSON', method: 'POST', path: '/approval/request', role: 'agent', body: '{"reason"', wantStatus: 400, wantCode: 'INVALID_JSON'},
  {name: 'request without reason', method: 'POST', path: '/approval/request', role: 'agent', body: json({command: 'ls'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'request empty reason', method: 'POST', path: '/approval/request', role: 'agent', body: json({reason: '', command: 'ls'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'request reason too long', method: 'POST', path: '/approval/request', role: 'agent', body: json({reason: 'x'.repeat(1025), command: 'ls'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'request unknown tool', method: 'POST', path: '/approval/request', role: 'agent', body: json({reason: 'r', tool: 'rm_everything'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'request tool name malformed', method: 'POST', path: '/approval/request', role: 'agent', body: json({reason: 'r', tool: 'Shell-Exec'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'request arguments not an object', method: 'POST', path: '/approval/request', role: 'agent', body: json({reason: 'r', tool: 'incident_create', arguments: ['x']}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'request arguments the tool rejects', method: 'POST', path: '/approval/request', role: 'agent', body: json({reason: 'r', tool: 'incident_create', arguments: {name: ''}}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'request ttl below 60', method: 'POST', path: '/approval/request', role: 'agent', body: json({reason: 'r', tool: 'incident_create', arguments: {name: 'n'}, ttl_secs: 59}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'request ttl above a day', method: 'POST', path: '/approval/request', role: 'agent', body: json({reason: 'r', tool: 'incident_create', arguments: {name: 'n'}, ttl_secs: 86_401}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'request unknown field', method: 'POST', path: '/approval/request', role: 'agent', body: json({reason: 'r', status: 'approved'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'request by the operator', method: 'POST', path: '/approval/request', body: json({reason: 'r', tool: 'incident_create', arguments: {name: 'n'}}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'request without token', method: 'POST', path: '/approval/request', role: 'none', body: json({reason: 'r'}), wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
  // GET /approval/pending, GET /approvals
  {name: 'pending with a query', method: 'GET', path: '/approval/pending?all=1', role: 'agent', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'list by the agent', method: 'GET', path: '/approvals', role: 'agent', wantStatus: 403, wantCode: 'FORBIDDEN'},
  {name: 'list unknown status', method: 'GET', path: '/approvals?status=maybe', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'list limit 0', method: 'GET', path: '/approvals?limit=0', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'list limit negative', method: 'GET', path: '/approvals?limit=-1', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'list bad cursor', method: 'GET', path: '/approvals?cursor=1%20OR%201', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  // GET /approval/{id}
  {name: 'get malformed id', method: 'GET', path: '/approval/apr_nope', role: 'agent', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'get unknown id', method: 'GET', path: `/approval/${ID}`, role: 'agent', wantStatus: 404, wantCode: 'NOT_FOUND'},
  // POST /approval/{id}/approve|deny
  {name: 'approve by the agent', method: 'POST', path: `/approval/${ID}/approve`, role: 'agent', body: json({}), wantStatus: 403, wantCode: 'FORBIDDEN'},
  {name: 'deny by the agent', method: 'POST', path: `/approval/${ID}/deny`, role: 'agent', body: json({}), wantStatus: 403, wantCode: 'FORBIDDEN'},
  {name: 'approve unknown id', method: 'POST', path: `/approval/${ID}/approve`, body: json({}), wantStatus: 404, wantCode: 'NOT_FOUND'},
  {name: 'approve malformed id', method: 'POST', path: '/approval/../approve', body: json({}), wantStatus: 404, wantCode: 'NOT_FOUND'},
  {name: 'approve note too long', method: 'POST', path: `/approval/${ID}/approve`, body: json({note: 'x'.repeat(501)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'approve with decided_by', method: 'POST', path: `/approval/${ID}/approve`, body: json({decided_by: 'operator:root'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'deny note wrong type', method: 'POST', path: `/approval/${ID}/deny`, body: json({note: 5}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  // POST /approval/gate
  {name: 'gate by the agent', method: 'POST', path: '/approval/gate', role: 'agent', body: json(gate), wantStatus: 403, wantCode: 'FORBIDDEN'},
  {name: 'gate operator actor', method: 'POST', path: '/approval/gate', body: json({...gate, actor: 'operator:alice'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'gate missing body', method: 'POST', path: '/approval/gate', body: json({...gate, body: undefined}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'gate bad method', method: 'POST', path: '/approval/gate', body: json({...gate, method: 'TRACE'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'gate relative path', method: 'POST', path: '/approval/gate', body: json({...gate, path: 'wallet/send'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'gate summary too long', method: 'POST', path: '/approval/gate', body: json({...gate, summary: 'x'.repeat(501)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'gate bad hint', method: 'POST', path: '/approval/gate', body: json({...gate, hint: 'maybe'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'gate malformed approval id', method: 'POST', path: '/approval/gate', body: json({...gate, approval_id: 'apr_x'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'gate unknown approval id', method: 'POST', path: '/approval/gate', body: json({...gate, approval_id: ID}), wantStatus: 412, wantCode: 'APPROVAL_INVALID'},
  // GET/PUT /approval/rules
  {name: 'rules get with a query', method: 'GET', path: '/approval/rules?x=1', role: 'agent', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'rules put by the agent', method: 'PUT', path: '/approval/rules', role: 'agent', body: json({rules: {shell_exec: 'never'}}), wantStatus: 403, wantCode: 'FORBIDDEN'},
  {name: 'rules put unknown operation', method: 'PUT', path: '/approval/rules', body: json({rules: {sh: 'never'}}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'rules put bad rule', method: 'PUT', path: '/approval/rules', body: json({rules: {shell_exec: 'sometimes'}}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'rules put without rules', method: 'PUT', path: '/approval/rules', body: json({}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'rules put malformed operation', method: 'PUT', path: '/approval/rules', body: json({rules: {'Shell Exec': 'never'}}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
]

describe('approval routes bad input', () => {
  it('covers every approval route of the contract', () => {
    const covered = new Set(cases.map((c) => `${c.method} ${c.path.split('?')[0]!.replace(ID, '{id}').replace('apr_nope', '{id}').replace('..', '{id}')}`))
    const untested = Object.values(agentdApi)
      .filter((r) => r.path.startsWith('/approval'))
      .map((r) => `${r.method} ${r.path}`)
      .filter((key) => !covered.has(key))
    expect(untested).toEqual([])
  })
})

badInputTable('approval routes bad input: the envelope, no approval or rule changed', cases, {
  send: socketSender({socket: () => agentd.socket, token: (role) => env.token(role), agentHeaders: {'x-osmoda-agent-id': 'ops'}}),
  state: async () => {
    const client = env.client('agentd', agentdApi)
    try {
      return {approvals: await client.approvalList({status: 'all', limit: 1000}), rules: await client.approvalRulesGet()}
    } finally {
      client.close()
    }
  },
})
