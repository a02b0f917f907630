import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {openDatabase, type Db} from './open.js'
import {pageJsonRows} from './page.js'

let dir: string
let db: Db

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-page-'))
  db = openDatabase(join(dir, 'page.db'))
  db.exec('CREATE TABLE docs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, doc TEXT NOT NULL)')
  const insert = db.prepare('INSERT INTO docs VALUES (?, ?, ?)')
  for (let i = 1; i <= 5; i++) insert.run(`d_${i}`, i % 2 ? 'odd' : 'even', JSON.stringify({n: i}))
})

afterEach(() => {
  db.close()
  rmSync(dir, {recursive: true, force: true})
})

describe('pageJsonRows', () => {
  it('pages newest first with a cursor, and gives none on the last page', () => {
    const query = {table: 'docs', column: 'doc', filter: {}, limit: 2}
    const first = pageJsonRows<{n: number}>(db, query)
    expect(first).toEqual({items: [{n: 5}, {n: 4}], next_cursor: 'd_4'})
    const second = pageJsonRows<{n: number}>(db, {...query, cursor: 'd_4'})
    expect(second).toEqual({items: [{n: 3}, {n: 2}], next_cursor: 'd_2'})
    expect(pageJsonRows<{n: number}>(db, {...query, cursor: 'd_2'})).toEqual({items: [{n: 1}], next_cursor: null})
    // An exactly full last page carries no cursor either
    expect(pageJsonRows<{n: number}>(db, {...query, limit: 5})).toMatchObject({next_cursor: null})
  })

  it('applies the filters it is given and ignores undefined ones', () => {
    expect(pageJsonRows<{n: number}>(db, {table: 'docs', column: 'doc', filter: {kind: 'odd'}, limit: 10}).items).toEqual([{n: 5}, {n: 3}, {n: 1}])
    expect(pageJsonRows<{n: number}>(db, {table: 'docs', column: 'doc', filter: {kind: undefined}, limit: 10}).items).toHaveLength(5)
  })
})
