import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {loadNodePublicKey} from '../src/lib/identity.js'
import {verifyCheckpointNote} from '../src/lib/ledger/checkpoint.js'
import {openLedger} from '../src/lib/ledger/ledger.js'
import {leafHash, verifyInclusion} from '../src/lib/ledger/merkle.js'
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

/** Appends events as another daemon would (the ledger is shared across processes). */
function appendAsDaemon(type: string, payload: Record<string, unknown>, actor = 'watch') {
  const ledger = openLedger(env.paths.ledgerDb)
  try {
    return ledger.append({type, actor, payload})
  } finally {
    ledger.close()
  }
}

describe('incidents through the typed client', () => {
  it('opens, steps with a receipt, resolves, and ledgers each change under the agent actor', async () => {
    // Given an agent client and a change recorded by another daemon
    const agent = env.client('agentd', agentdApi, 'agent', {'x-osmoda-agent-id': 'ops'})
    const change = appendAsDaemon('app.deployed', {name: 'blog', command: 'node'})
    // When the agent works an incident
    const opened = await agent.incidentCreate({name: 'blog returns 502', severity: 'high', summary: 'since 21:00'})
    await agent.incidentStep({id: opened.id, action: 'redeployed blog', result: 'healthy', receipt_id: `rcpt_${change.seq}`})
    const resolved = await agent.incidentStep({id: opened.id, action: 'watched for 5 min', result: 'no 502s', resolve: true})
    // Then the incident holds both steps and is resolved; GET returns the same
    expect(resolved).toMatchObject({id: opened.id, status: 'resolved', severity: 'high', summary: 'since 21:00'})
    expect(resolved.steps.map((s) => [s.step_number, s.receipt_id])).toEqual([[1, `rcpt_${change.seq}`], [2, null]])
    expect(await agent.incidentGet({id: opened.id})).toEqual(resolved)
    // And every change is a ledger event by agent:ops
    const {events} = await agent.eventsLog({type: 'incident.*', limit: 10})
    const mine = events.filter((e) => e.payload.incident_id === opened.id).reverse()
    expect(mine.map((e) => [e.type, e.actor, e.payload.step_number ?? null])).toEqual([
      ['incident.created', 'agent:ops', null],
      ['incident.step_added', 'agent:ops', 1],
      ['incident.step_added', 'agent:ops', 2],
      ['incident.resolved', 'agent:ops', null],
    ])
    // And a further step is a 409 CONFLICT with the state
    await expect(agent.incidentStep({id: opened.id, action: 'again', result: ''})).rejects.toMatchObject({code: 'CONFLICT', details: {state: 'resolved'}})
    agent.close()
  })

  it('lists open incidents by default and pages all of them with a cursor', async () => {
    const client = env.client('agentd', agentdApi)
    const made = []
    for (let i = 0; i < 3; i++) made.push(await client.incidentCreate({name: `page ${i}`}))
    const open = await client.incidentList()
    expect(open.incidents.every((i) => i.status === 'open')).toBe(true)
    expect(open.incidents.slice(0, 3).map((i) => i.name)).toEqual(['page 2', 'page 1', 'page 0'])
    const all: string[] = []
    let cursor: string | undefined
    do {
      const page = await client.incidentList({status: 'all', limit: 2, cursor})
      all.push(...page.incidents.map((i) => i.id))
      cursor = page.next_cursor ?? undefined
    } while (cursor)
    expect(all).toEqual([...all].sort().reverse())
    expect(all).toEqual(expect.arrayContaining(made.map((m) => m.id)))
    client.close()
  })
})

describe('receipts through the typed client', () => {
  it('lists mutation events as receipts whose seq and hash verify against a signed checkpoint', async () => {
    // Given a switch commit recorded by watch
    const client = env.client('agentd', agentdApi)
    const commit = appendAsDaemon('switch.committed', {switch_id: 'sw_01', previous_generation: 41})
    // When the receipts of the last hour are listed, and a checkpoint is signed
    const {receipts} = await client.receiptList({type: 'switch.*', since: '1h'})
    const receipt = await client.receiptGet({id: `rcpt_${commit.seq}`})
    const checkpoint = await client.ledgerCheckpointNow()
    // Then the receipt views the event with its undo line
    expect(receipts[0]).toEqual(receipt)
    expect(receipt).toMatchObject({event_seq: commit.seq, hash: commit.hash, receipt_type: 'switch.committed', actor: 'watch', reversible: true, undo_action: 'osmoda switch begin --plan "undo sw_01" --generation 41'})
    // And its seq and hash are proven against the node-signed checkpoint by an inclusion proof
    const {identity, verifyKey} = loadNodePublicKey(env.paths)
    const note = verifyCheckpointNote(checkpoint.note, verifyKey, identity.ledger_origin)
    expect(note.size).toBeGreaterThanOrEqual(receipt.event_seq)
    const proof = await client.ledgerProofInclusion({seq: receipt.event_seq, size: note.size})
    const leaf = leafHash(Buffer.from(receipt.hash, 'hex'))
    expect(proof.leaf_hash).toBe(leaf.toString('base64'))
    expect(verifyInclusion(leaf, receipt.event_seq - 1, note.size, proof.hashes.map((h) => Buffer.from(h, 'base64')), note.rootHash)).toBe(true)
    // And a forged hash does not verify
    const forged = leafHash(Buffer.from('f'.repeat(64), 'hex'))
    expect(verifyInclusion(forged, receipt.event_seq - 1, note.size, proof.hashes.map((h) => Buffer.from(h, 'base64')), note.rootHash)).toBe(false)
    client.close()
  })

  it('does not offer bookkeeping events as receipts', async () => {
    const client = env.client('agentd', agentdApi)
    const {receipts} = await client.receiptList({limit: 500})
    expect(receipts.some((r) => r.receipt_type.startsWith('incident.') || r.receipt_type === 'daemon.started')).toBe(false)
    await expect(client.receiptGet({id: 'rcpt_1'})).rejects.toMatchObject({code: 'NOT_FOUND'})
    client.close()
  })
})

describe('osmoda incident and osmoda receipt', () => {
  it('works an incident end to end with --json', async () => {
    const created = await env.cli(['incident', 'create', '--name', 'disk filling', '--severity', 'critical', '--json'])
    expect(created.exitCode).toBe(0)
    const id = created.json.result.id as string
    expect(created.json.result).toMatchObject({status: 'open', severity: 'critical', steps: []})
    const change = appendAsDaemon('file.written', {path: '/srv/x', bytes: 3}, 'agent:ops')
    const stepped = await env.cli(['incident', 'step', id, '--action', 'rotated logs', '--result', 'freed 2 GiB', '--receipt', `rcpt_${change.seq}`, '--json'])
    expect(stepped.json.result.steps).toEqual([expect.objectContaining({step_number: 1, receipt_id: `rcpt_${change.seq}`})])
    const resolved = await env.cli(['incident', 'resolve', id, '--note', 'logrotate fixed', '--json'])
    expect(resolved.json.result).toMatchObject({status: 'resolved', steps: [{step_number: 1}, {step_number: 2, action: 'resolved', result: 'logrotate fixed'}]})
    const shown = await env.cli(['incident', 'show', id, '--json'])
    expect(shown.json.result).toEqual(resolved.json.result)
    const listed = await env.cli(['incident', 'list', '--status', 'resolved', '--json'])
    expect(listed.json.result.incidents.find((i: {id: string}) => i.id === id)).toMatchObject({step_count: 2})
    const again = await env.cli(['incident', 'resolve', id, '--json'])
    expect(again.exitCode).toBe(1)
    expect(again.json).toMatchObject({error: {code: 'CONFLICT', details: {state: 'resolved'}}})
    const human = await env.cli(['incident', 'show', id])
    expect(human.stdout).toMatch(new RegExp(`^${id}  critical  resolved`))
    expect(human.stdout).toMatch(/STEP_NUMBER +CREATED_AT +ACTION +RESULT +RECEIPT_ID/)
  })

  it('lists and shows receipts', async () => {
    const change = appendAsDaemon('capability.minted', {token_id: 'cap_01', granted_to: 'scraper'}, 'agent:ops')
    const list = await env.cli(['receipt', 'list', '--type', 'capability', '--since', '10m', '--json'])
    expect(list.exitCode).toBe(0)
    expect(list.json.result.receipts[0]).toMatchObject({id: `rcpt_${change.seq}`, undo_action: 'osmoda capability revoke cap_01'})
    const show = await env.cli(['receipt', 'show', `rcpt_${change.seq}`, '--json'])
    expect(show.json.result).toEqual(list.json.result.receipts[0])
    const human = await env.cli(['receipt', 'list', '--limit', '1'])
    expect(human.stdout).toMatch(/^ID +TIMESTAMP +ACTOR +SUMMARY +UNDO_ACTION\nrcpt_\d+ /)
    const missing = await env.cli(['receipt', 'show', 'rcpt_999999', '--json'])
    expect(missing.exitCode).toBe(1)
    expect(missing.json).toMatchObject({error: {code: 'NOT_FOUND'}})
    const bad = await env.cli(['receipt', 'list', '--since', 'yesterday', '--json'])
    expect(bad.exitCode).toBe(2)
    expect(bad.json).toMatchObject({error: {code: 'VALIDATION_FAILED'}})
  })
})
