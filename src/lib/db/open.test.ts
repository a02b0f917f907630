import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {migrate, openDatabase} from './open.js'

const MIGRATIONS = ['CREATE TABLE a (x INTEGER)', 'CREATE TABLE b (y INTEGER)']
const dirs: string[] = []
const freshPath = () => {
  const dir = mkdtempSync(join(tmpdir(), 'osmoda-db-'))
  dirs.push(dir)
  return join(dir, 'test.db')
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true})
})

describe('migrate', () => {
  it('applies each migration once, in order, and is a no-op on an up-to-date file', () => {
    // Given a fresh database
    const db = openDatabase(freshPath())
    // When it is migrated twice (the second time as a daemon restart would)
    migrate(db, MIGRATIONS)
    migrate(db, MIGRATIONS)
    // Then both tables exist (a re-run of a plain CREATE TABLE would have thrown) and the version is 2
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all()
    expect(tables).toEqual(['a', 'b'])
    expect(db.pragma('user_version', {simple: true})).toBe(2)
    db.close()
  })

  it('leaves a file migrated by another connection alone, never lowering its version', () => {
    // Given a file one connection brought to version 2 while another had it open
    const path = freshPath()
    const other = openDatabase(path)
    const db = openDatabase(path)
    migrate(other, MIGRATIONS)
    // When the second connection migrates with the same list
    migrate(db, MIGRATIONS)
    // Then nothing ran twice and the version stays 2
    expect(db.pragma('user_version', {simple: true})).toBe(2)
    other.close()
    db.close()
  })

  it('rolls a failing migration back whole and keeps the version before it', () => {
    // Given a list whose second migration fails half way
    const db = openDatabase(freshPath())
    // When it is applied
    expect(() => migrate(db, ['CREATE TABLE a (x INTEGER)', 'CREATE TABLE c (z INTEGER); CREATE TABLE a (x INTEGER)'])).toThrow(/already exists/)
    // Then the first migration stands, nothing of the second remains, and the version is 1
    expect(db.pragma('user_version', {simple: true})).toBe(1)
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'c'").get()).toBeUndefined()
    db.close()
  })
})
