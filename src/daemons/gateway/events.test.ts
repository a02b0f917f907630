import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {Db} from '../../lib/db/open.js'
import {pathsFrom} from '../../lib/paths.js'
import {createEventBus} from './events.js'
import {openGatewayDb} from './store.js'

let dir: string
let db: Db
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-events-'))
  db = openGatewayDb(pathsFrom({runDir: join(dir, 'run'), stateDir: join(dir, 'state'), configDir: join(dir, 'config')}))
})
afterEach(() => {
  db.close()
  rmSync(dir, {recursive: true, force: true})
})

describe('event bus', () => {
  it('assigns contiguous seqs, delivers live in order and replays from a cursor', () => {
    const bus = createEventBus(db)
    const seen: number[] = []
    const off = bus.subscribe((e) => seen.push(e.seq))
    for (let i = 0; i < 5; i++) bus.emit({category: 'state', type: 'state.changed', data: {i}})
    off()
    bus.emit({category: 'state', type: 'state.changed', data: {i: 5}})
    expect(seen).toEqual([1, 2, 3, 4, 5])
    expect(bus.since(3, 10).map((e) => e.data.i)).toEqual([3, 4, 5])
  })

  it('prunes by rows and never reuses a seq', () => {
    const bus = createEventBus(db)
    for (let i = 0; i < 30; i++) bus.emit({category: 'request', type: 'request.accepted', data: {}})
    expect(bus.prune({days: 7, rows: 10})).toBe(20)
    expect(bus.bounds()).toEqual({oldest: 21, newest: 30})
    expect(bus.emit({category: 'request', type: 'request.accepted', data: {}}).seq).toBe(31)
  })

  it('prunes by age', () => {
    let now = Date.parse('2026-01-01T00:00:00.000Z')
    const bus = createEventBus(db, () => now)
    bus.emit({category: 'agent', type: 'agent.wedged', data: {}})
    now += 8 * 86_400_000
    bus.emit({category: 'agent', type: 'agent.healed', data: {}})
    expect(bus.prune({days: 7, rows: 1000}, now)).toBe(1)
    expect(bus.since(0, 10).map((e) => e.type)).toEqual(['agent.healed'])
  })
})
