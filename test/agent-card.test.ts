import {verify} from 'node:crypto'
import {existsSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {verifyAgentCard} from '../src/daemons/agentd/agent-card/signature.js'
import {loadNodePublicKey} from '../src/lib/identity.js'
import {canonicalJson} from '../src/lib/ledger/canonical-json.js'
import {badInputTable, ledgerSize, onRoute, socketSender} from './helpers/bad-input.js'
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

/** The A2A §8.4 check done by hand, independent of the module under test: EdDSA over protected "." b64url(JCS(card − signatures)). */
function verifiesByHand(card: Record<string, unknown> & {signatures?: {protected: string; signature: string}[]}): boolean {
  const {signatures, ...unsigned} = card
  const {verifyKey} = loadNodePublicKey(env.paths)
  const [sig] = signatures ?? []
  if (!sig) return false
  const input = `${sig.protected}.${Buffer.from(canonicalJson(unsigned)).toString('base64url')}`
  return verify(null, Buffer.from(input), verifyKey, Buffer.from(sig.signature, 'base64url'))
}

describe('osmoda agent-card', () => {
  it('shows a signed default card before anything is generated', async () => {
    const shown = await env.cli(['agent-card', 'show', '--json'])
    expect(shown.exitCode, shown.stderr).toBe(0)
    const {card, registration} = shown.json.result
    expect(card).toMatchObject({name: 'osmoda', description: 'AI-native system agent with auditable safety', skills: [{id: 'system-administration'}]})
    expect(registration.services.map((s: {name: string}) => s.name)).toEqual(['mcp', 'a2a'])
    expect(verifiesByHand(card)).toBe(true)
  })

  it('generates, stores, shows and ledgers a card that verifies with the node public key', async () => {
    // When the operator generates a card with a name, description and two services
    const generated = await env.cli([
      'agent-card', 'generate', '--name', 'web-01', '--description', 'Runs the shop backend',
      '--service', 'mcp=stdio:osmoda mcp@2025-11-25', '--service', 'web=https://user@ops.example.com/x@1', '--json',
    ])
    expect(generated.exitCode, generated.stderr).toBe(0)
    const bundle = generated.json.result
    // Then the services are parsed at the last @
    expect(bundle.registration.services).toEqual([
      {name: 'mcp', endpoint: 'stdio:osmoda mcp', version: '2025-11-25'},
      {name: 'web', endpoint: 'https://user@ops.example.com/x', version: '1'},
    ])
    // And the file holds exactly that, mode 0644 (a public document, no secret)
    const file = join(env.paths.daemonStateDir('agentd'), 'agent-card.json')
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(bundle)
    expect(statSync(file).mode & 0o777).toBe(0o644)
    // And the card verifies with the node's public key, by hand and with verifyAgentCard
    const {verifyKey, identity} = loadNodePublicKey(env.paths)
    expect(verifiesByHand(bundle.card)).toBe(true)
    expect(verifyAgentCard(bundle.card, verifyKey)).toBe(true)
    expect(verifyAgentCard(bundle.card, Buffer.from(identity.ed25519_public_key, 'base64'))).toBe(true)
    expect(verifyAgentCard({...bundle.card, name: 'web-02'}, verifyKey)).toBe(false)
    // And the ERC-8004 registration is signed by the same key, and a changed service breaks it
    expect(verifyAgentCard(bundle.registration, verifyKey)).toBe(true)
    expect(verifyAgentCard({...bundle.registration, services: [{name: 'mcp', endpoint: 'https://evil.example', version: '1'}]}, verifyKey)).toBe(false)
    // And show (human and --json) serves the stored card
    const shown = await env.cli(['agent-card', 'show', '--json'])
    expect(shown.json.result).toEqual(bundle)
    const human = await env.cli(['agent-card', 'show'])
    expect(human.stdout).toContain('web-01 (version')
    expect(human.stdout).toContain('https://user@ops.example.com/x (1)')
    // And the ledger records agent_card.generated with the name and service names
    const {events} = await env.client('agentd', agentdApi).eventsLog({type: 'agent_card.generated', limit: 5})
    expect(events[0]).toMatchObject({actor: expect.stringMatching(/^operator:/), payload: {name: 'web-01', services: ['mcp', 'web']}})
  })

  it('lets the agent read the card over its own token', async () => {
    const agent = env.client('agentd', agentdApi, 'agent', {'x-osmoda-agent-id': 'ops'})
    const {card} = await agent.agentCardGet()
    expect(card.name).toBe('web-01')
    agent.close()
  })

  it('rejects a malformed --service with a usage error (exit 2) and writes nothing', async () => {
    const before = (await env.cli(['agent-card', 'show', '--json'])).json.result
    for (const bad of ['web', 'web=https://x', '=https://x@1', 'web=@1', 'web=https://x@']) {
      const res = await env.cli(['agent-card', 'generate', '--service', bad, '--json'])
      expect(res.exitCode, bad).toBe(2)
      expect(res.json.error.code).toBe('USAGE')
    }
    const tooLong = await env.cli(['agent-card', 'generate', '--name', 'n'.repeat(101), '--json'])
    expect(tooLong.exitCode).toBe(2)
    expect(tooLong.json.error.code).toBe('VALIDATION_FAILED')
    expect((await env.cli(['agent-card', 'show', '--json'])).json.result).toEqual(before)
  })
})

describe('agentd agent card routes on the real daemon', () => {
  // The stored card file as it is now (null before any generate): a refused request must leave it alone.
  const stored = () => {
    const file = join(env.paths.daemonStateDir('agentd'), 'agent-card.json')
    return existsSync(file) ? readFileSync(file, 'utf8') : null
  }
  const cases = onRoute('POST', '/agent/card/generate', [
    {name: 'malformed JSON', body: '{"name"', wantStatus: 400, wantCode: 'INVALID_JSON'},
    {name: 'unknown field', body: JSON.stringify({card: {}}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'name over 100', body: JSON.stringify({name: 'n'.repeat(101)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: '17 services', body: JSON.stringify({services: Array.from({length: 17}, () => ({name: 'web', endpoint: 'https://x', version: '1'}))}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'without token', role: 'none', body: '{}', wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
  ])

  badInputTable('POST /agent/card/generate bad input: nothing written', cases, {
    send: socketSender({socket: () => agentd.socket, token: (role) => env.token(role)}),
    state: () => ({card: stored(), ledger: ledgerSize(env.paths.ledgerDb)}),
  })

  it('lets the agent publish a card only with the operator\'s approval, for exactly the card approved', async () => {
    // Given the stored card and ledger
    const before = stored()
    const operator = env.client('agentd', agentdApi)
    const size = (await operator.ledgerStatus()).size
    // When the agent asks to generate
    const agent = env.client('agentd', agentdApi, 'agent', {'x-osmoda-agent-id': 'ops'})
    const error = await agent.agentCardGenerate({name: 'ops card'}).then(() => null, (e: {code: string; details: {approval_id: string}}) => e)
    // Then it is refused with 412 APPROVAL_REQUIRED: the card is unchanged, only the request is ledgered
    expect(error?.code).toBe('APPROVAL_REQUIRED')
    expect(stored()).toBe(before)
    const {events} = await operator.eventsLog({after: size, order: 'asc'})
    expect(events.map((e) => e.type)).toEqual(['approval.requested'])
    // When the operator approves, a different card with that approval is still refused
    const id = error!.details.approval_id
    await operator.approvalApprove({id})
    await expect(agent.agentCardGenerate({name: 'hijacked', approval_id: id})).rejects.toMatchObject({code: 'APPROVAL_INVALID', details: {reason: 'digest_mismatch'}})
    expect(stored()).toBe(before)
    // But the approved card goes through, once
    const made = await agent.agentCardGenerate({name: 'ops card', approval_id: id})
    expect(made.card.name).toBe('ops card')
    await expect(agent.agentCardGenerate({name: 'ops card', approval_id: id})).rejects.toMatchObject({code: 'APPROVAL_INVALID', details: {reason: 'consumed'}})
    agent.close()
    operator.close()
  })
})
