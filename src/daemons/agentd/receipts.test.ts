import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {OsmodaError} from '../../lib/errors.js'
import {openLedger, type Ledger} from '../../lib/ledger/ledger.js'
import {ReceiptListInput, SinceInput} from './api.js'
import {createReceiptService, isReceiptType, resolveSince, undoAction} from './receipts.js'

let dir: string
let ledger: Ledger
let clock: number

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-receipts-'))
  clock = Date.parse('2026-11-20T00:00:00.000Z')
  ledger = openLedger(join(dir, 'ledger.db'), {clock: () => clock})
})

afterEach(() => {
  ledger.close()
  rmSync(dir, {recursive: true, force: true})
})

const list = (input: Record<string, unknown>) => createReceiptService({ledger, now: () => clock}).list(ReceiptListInput.parse(input))

describe('receipts', () => {
  it('views only mutation events, newest first, with seq, hash and undo lines', () => {
    // Given a mix of mutation and bookkeeping events
    ledger.append({type: 'daemon.started', actor: 'agentd', payload: {daemon: 'agentd'}})
    const app = ledger.append({type: 'app.deployed', actor: 'agent:ops', payload: {name: 'blog', command: 'node'}})
    ledger.append({type: 'tool.called', actor: 'agent:ops', payload: {tool: 'app_deploy'}})
    const wallet = ledger.append({type: 'wallet.signed', actor: 'operator:root', payload: {wallet_id: 'wal_1'}})
    const commit = ledger.append({type: 'switch.committed', actor: 'watch', payload: {switch_id: 'sw_1', previous_generation: 41}})
    ledger.append({type: 'incident.created', actor: 'agent:ops', payload: {incident_id: 'inc_1'}})
    // When receipts are listed
    const {receipts, next_cursor} = list({})
    // Then only the three mutations appear, each a proof-carrying view of its event
    expect(receipts.map((r) => r.id)).toEqual([`rcpt_${commit.seq}`, `rcpt_${wallet.seq}`, `rcpt_${app.seq}`])
    expect(next_cursor).toBeNull()
    expect(receipts[0]).toMatchObject({event_seq: commit.seq, hash: commit.hash, timestamp: commit.ts, receipt_type: 'switch.committed', actor: 'watch', reversible: true, undo_action: 'osmoda switch begin --plan "undo sw_1" --generation 41'})
    expect(receipts[1]).toMatchObject({reversible: false, undo_action: null, detail: {wallet_id: 'wal_1'}})
    expect(receipts[2]).toMatchObject({undo_action: 'osmoda app remove blog', summary: 'app.deployed by agent:ops (name=blog)'})
  })

  it('filters by type, bare domain, actor and since, and pages with a cursor', () => {
    for (let i = 0; i < 5; i++) {
      ledger.append({type: 'file.written', actor: i % 2 ? 'agent:a' : 'agent:b', payload: {path: `/tmp/${i}`, bytes: i}})
      clock += 3_600_000
    }
    ledger.append({type: 'app.stopped', actor: 'agent:a', payload: {name: 'x'}})
    expect(list({type: 'file.written'}).receipts).toHaveLength(5)
    expect(list({type: 'app'}).receipts.map((r) => r.receipt_type)).toEqual(['app.stopped'])
    expect(list({type: 'app.*'}).receipts).toHaveLength(1)
    expect(list({type: 'tool.called'}).receipts).toHaveLength(0)
    expect(list({actor: 'agent:a'}).receipts).toHaveLength(3)
    expect(list({since: '150m'}).receipts.map((r) => r.detail.path ?? r.receipt_type)).toEqual(['app.stopped', '/tmp/4', '/tmp/3'])
    expect(list({since: '2026-11-20T01:00:00+00:00'}).receipts).toHaveLength(5)
    const first = list({limit: 4})
    const second = list({limit: 4, cursor: first.next_cursor})
    expect(first.next_cursor).toBe(String(first.receipts[3]?.event_seq))
    expect([...first.receipts, ...second.receipts].map((r) => r.event_seq)).toEqual([6, 5, 4, 3, 2, 1])
    expect(second.next_cursor).toBeNull()
  })

  it('gets one receipt by id, and NOT_FOUND for a missing or non-mutation event', () => {
    const written = ledger.append({type: 'file.written', actor: 'agent:a', payload: {path: '/tmp/a', bytes: 3}})
    const called = ledger.append({type: 'tool.called', actor: 'agent:a', payload: {tool: 'x'}})
    const service = createReceiptService({ledger})
    expect(service.get(`rcpt_${written.seq}`)).toMatchObject({summary: 'agent:a wrote /tmp/a (3 bytes)', hash: written.hash})
    for (const id of [`rcpt_${called.seq}`, 'rcpt_999', 'rcpt_9999999999999999']) {
      let code = ''
      try {
        service.get(id)
      } catch (error) {
        code = (error as OsmodaError).code
      }
      expect(code, id).toBe('NOT_FOUND')
    }
  })

  it('maps undo lines per SPEC and never splices unsafe payload values', () => {
    expect(undoAction('routine.added', {routine_id: 'rtn_1'})).toBe('osmoda routine remove rtn_1')
    expect(undoAction('watcher.added', {watcher_id: 'wat_1'})).toBe('osmoda watcher remove wat_1')
    expect(undoAction('capability.minted', {token_id: 'cap_1'})).toBe('osmoda capability revoke cap_1')
    expect(undoAction('mesh.peer_added', {peer_id: 'ab12'})).toBe('osmoda mesh peer remove ab12')
    expect(undoAction('app.deployed', {name: 'x; rm -rf /'})).toBeNull()
    expect(undoAction('switch.committed', {switch_id: 'sw_1'})).toBeNull()
    expect(undoAction('file.written', {path: '/etc/x'})).toBeNull()
    expect(isReceiptType('mesh.invite_created')).toBe(true)
    expect(isReceiptType('mesh.message_sent')).toBe(false)
    expect(isReceiptType('teach.optimization_applied')).toBe(true)
  })

  it('resolves since durations and instants, clamping absurd durations at the epoch', () => {
    const now = Date.parse('2026-11-25T12:00:00.000Z')
    expect(resolveSince('24h', now)).toBe('2026-11-24T12:00:00.000Z')
    expect(resolveSince('1w', now)).toBe('2026-11-18T12:00:00.000Z')
    expect(resolveSince('2026-11-25T13:00:00+02:00', now)).toBe('2026-11-25T11:00:00.000Z')
    expect(resolveSince('999999999w', now)).toBe('1970-01-01T00:00:00.000Z')
    for (const bad of ['0h', '24', 'h', '1y', 'yesterday', '2026-11-25', '2026-13-01T00:00:00Z', '1000000000d']) expect(SinceInput.safeParse(bad).success, bad).toBe(false)
  })
})
