import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {migrate, openDatabase, type Db} from '../../lib/db/open.js'
import {OsmodaError} from '../../lib/errors.js'
import {openLedger, type Ledger} from '../../lib/ledger/ledger.js'
import {IncidentCreateInput, IncidentListInput, IncidentStepInput} from './api.js'
import {createIncidentStore} from './incident-store.js'
import {createIncidentService, type IncidentService} from './incidents.js'
import {AGENTD_MIGRATIONS} from './store.js'

let dir: string
let db: Db
let ledger: Ledger
let incidents: IncidentService
let clock: number

const create = (input: Record<string, unknown>, actor = 'agent:ops') => incidents.create(IncidentCreateInput.parse(input), actor)
const step = (input: Record<string, unknown>, actor = 'agent:ops') => incidents.step(IncidentStepInput.parse(input), actor)
const count = (table: string) => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number
const codeOf = (fn: () => unknown): string => {
  try {
    fn()
  } catch (error) {
    return (error as OsmodaError).code
  }
  return 'NO_ERROR'
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-incidents-'))
  db = openDatabase(join(dir, 'agentd.db'))
  migrate(db, AGENTD_MIGRATIONS)
  ledger = openLedger(join(dir, 'ledger.db'))
  clock = Date.parse('2026-11-25T21:30:00.000Z')
  incidents = createIncidentService({store: createIncidentStore(db), ledger, now: () => (clock += 1000)})
})

afterEach(() => {
  db.close()
  ledger.close()
  rmSync(dir, {recursive: true, force: true})
})

describe('incident service', () => {
  it('creates an open incident and ledgers incident.created', () => {
    // When an incident is created
    const incident = create({name: 'nginx 502', summary: 'api down'})
    // Then it is open, medium by default, with an inc_<ULID> id, and the ledger records it
    expect(incident).toMatchObject({name: 'nginx 502', severity: 'medium', summary: 'api down', status: 'open', steps: [], resolved_at: null})
    expect(incident.id).toMatch(/^inc_[0-9A-HJKMNP-TV-Z]{26}$/)
    const [event] = ledger.query({type: 'incident.created', limit: 1, order: 'desc'})
    expect(event).toMatchObject({actor: 'agent:ops', payload: {incident_id: incident.id, name: 'nginx 502', severity: 'medium'}})
  })

  it('numbers steps contiguously, cites receipts and resolves', () => {
    // Given an incident and a ledger event to cite
    const incident = create({name: 'disk full', severity: 'high'})
    const evidence = ledger.append({type: 'file.written', actor: 'agent:ops', payload: {path: '/tmp/x', bytes: 1}})
    // When three steps are added, the last one resolving
    step({id: incident.id, action: 'checked df', result: '/ 100%'})
    step({id: incident.id, action: 'removed old logs', result: 'freed 2 GiB', receipt_id: `rcpt_${evidence.seq}`})
    const done = step({id: incident.id, action: 'verified', result: '/ 60%', resolve: true})
    // Then the steps are 1, 2, 3 with the receipt, and the incident is resolved
    expect(done.steps.map((s) => s.step_number)).toEqual([1, 2, 3])
    expect(done.steps[1]?.receipt_id).toBe(`rcpt_${evidence.seq}`)
    expect(done.steps[0]?.receipt_id).toBeNull()
    expect(done).toMatchObject({status: 'resolved', resolved_at: done.steps[2]?.created_at})
    const types = ledger.query({type: 'incident.*', limit: 10, order: 'asc'}).map((e) => [e.type, e.payload.step_number ?? null])
    expect(types).toEqual([['incident.created', null], ['incident.step_added', 1], ['incident.step_added', 2], ['incident.step_added', 3], ['incident.resolved', null]])
    expect(incidents.get(incident.id)).toEqual(done)
  })

  it('refuses a step on a resolved incident with CONFLICT and details.state', () => {
    // Given a resolved incident
    const incident = create({name: 'x'})
    step({id: incident.id, action: 'fixed', result: '', resolve: true})
    const size = ledger.size()
    // When another step is attempted / Then 409 CONFLICT with the state, and nothing is written
    let error: OsmodaError | undefined
    try {
      step({id: incident.id, action: 'again', result: ''})
    } catch (e) {
      error = e as OsmodaError
    }
    expect(error?.code).toBe('CONFLICT')
    expect(error?.details).toEqual({state: 'resolved'})
    expect(ledger.size()).toBe(size)
    expect(count('incident_steps')).toBe(1)
  })

  it('answers NOT_FOUND for an unknown incident and VALIDATION_FAILED for a receipt beyond the ledger', () => {
    const incident = create({name: 'x'})
    const size = ledger.size()
    expect(codeOf(() => step({id: 'inc_01ARYZ6S41TSV4RRFFQ69G5FAV', action: 'a', result: ''}))).toBe('NOT_FOUND')
    expect(codeOf(() => incidents.get('inc_01ARYZ6S41TSV4RRFFQ69G5FAV'))).toBe('NOT_FOUND')
    expect(codeOf(() => step({id: incident.id, action: 'a', result: '', receipt_id: `rcpt_${size + 1}`}))).toBe('VALIDATION_FAILED')
    expect(ledger.size()).toBe(size)
    expect(count('incident_steps')).toBe(0)
  })

  it('rolls the incident back when the ledger append fails', () => {
    // Given a ledger that refuses appends
    const broken = createIncidentService({store: createIncidentStore(db), ledger: {...ledger, append: () => { throw new OsmodaError('NOT_READY', 'ledger busy') }}})
    const incident = create({name: 'kept'})
    // When creating or stepping fails at the append / Then no row is left behind
    expect(codeOf(() => broken.create(IncidentCreateInput.parse({name: 'lost'}), 'agent:ops'))).toBe('NOT_READY')
    expect(codeOf(() => broken.step(IncidentStepInput.parse({id: incident.id, action: 'a', result: '', resolve: true}), 'agent:ops'))).toBe('NOT_READY')
    expect(count('incidents')).toBe(1)
    expect(count('incident_steps')).toBe(0)
    expect(incidents.get(incident.id).status).toBe('open')
  })

  it('lists by status, newest first, with step counts and a cursor', () => {
    // Given five incidents, two resolved
    const made = Array.from({length: 5}, (_, i) => create({name: `inc ${i}`}))
    step({id: made[1]!.id, action: 'a', result: 'r'})
    step({id: made[1]!.id, action: 'b', result: 'r', resolve: true})
    step({id: made[3]!.id, action: 'a', result: 'r', resolve: true})
    // When listed page by page
    const open = incidents.list(IncidentListInput.parse({}))
    const first = incidents.list(IncidentListInput.parse({status: 'all', limit: 2}))
    const second = incidents.list(IncidentListInput.parse({status: 'all', limit: 2, cursor: first.next_cursor}))
    const third = incidents.list(IncidentListInput.parse({status: 'all', limit: 2, cursor: second.next_cursor}))
    const resolved = incidents.list(IncidentListInput.parse({status: 'resolved'}))
    // Then each page is newest first and the cursor walks to the end exactly
    expect(open.incidents.map((i) => i.name)).toEqual(['inc 4', 'inc 2', 'inc 0'])
    expect(open.next_cursor).toBeNull()
    expect([...first.incidents, ...second.incidents, ...third.incidents].map((i) => i.name)).toEqual(['inc 4', 'inc 3', 'inc 2', 'inc 1', 'inc 0'])
    expect(third.next_cursor).toBeNull()
    expect(resolved.incidents.map((i) => [i.name, i.step_count])).toEqual([['inc 3', 1], ['inc 1', 2]])
    expect(resolved.incidents[0]).not.toHaveProperty('steps')
  })

  it('keeps step numbers contiguous and steps off resolved incidents even below the service', () => {
    const store = createIncidentStore(db)
    const incident = create({name: 'x'})
    const row = {incident_id: incident.id, action: 'a', result: '', receipt_seq: null, created_at: '2026-11-25T21:30:00.000Z'}
    expect(() => store.insertStep({...row, step_number: 2})).toThrow(/contiguous/)
    store.insertStep({...row, step_number: 1})
    store.markResolved(incident.id, '2026-11-25T21:31:00.000Z')
    expect(() => store.insertStep({...row, step_number: 2})).toThrow(/resolved/)
    expect(() => store.insertStep({...row, incident_id: 'inc_01ARYZ6S41TSV4RRFFQ69G5FAV', step_number: 1})).toThrow(/FOREIGN KEY/)
  })
})
