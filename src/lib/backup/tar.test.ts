import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {buildTar, parseTar} from './tar.js'

describe('ustar', () => {
  it('round-trips files and directories, long names included', () => {
    // Given files, a directory and a name over 100 bytes
    const long = `memory/${'c'.repeat(60)}/2026-11/${'m'.repeat(60)}.md`
    const archive = buildTar([
      {name: 'memory', type: 'dir', mode: 0o750},
      {name: 'ledger.db', type: 'file', mode: 0o600, uid: 992, gid: 991, data: Buffer.from('SQLite format 3\0')},
      {name: long, type: 'file', mode: 0o644, data: Buffer.alloc(1000, 7)},
      {name: 'empty', type: 'file', mode: 0o600, data: Buffer.alloc(0)},
    ])
    // When parsed back
    const entries = parseTar(archive)
    // Then names, types, modes and contents survive
    expect(entries.map((e) => [e.name, e.type, e.mode, e.data.length])).toEqual([
      ['memory', 'dir', 0o750, 0],
      ['ledger.db', 'file', 0o600, 16],
      [long, 'file', 0o644, 1000],
      ['empty', 'file', 0o600, 0],
    ])
    expect(entries[2]?.data.equals(Buffer.alloc(1000, 7))).toBe(true)
    expect([entries[1]?.uid, entries[1]?.gid]).toEqual([992, 991])
  })

  it('writes archives that GNU tar reads', () => {
    // Given an archive of ours on disk
    const dir = mkdtempSync(join(tmpdir(), 'osmoda-tar-'))
    try {
      writeFileSync(join(dir, 'a.tar'), buildTar([{name: 'd', type: 'dir', mode: 0o700}, {name: 'd/f.txt', type: 'file', mode: 0o600, data: Buffer.from('hello\n')}]))
      // When tar lists and extracts it
      const listing = execFileSync('tar', ['-tf', join(dir, 'a.tar')], {encoding: 'utf8'})
      execFileSync('tar', ['-xf', join(dir, 'a.tar'), '-C', dir])
      // Then it sees the same members and contents
      expect(listing.trim().split('\n')).toEqual(['d/', 'd/f.txt'])
      expect(readFileSync(join(dir, 'd', 'f.txt'), 'utf8')).toBe('hello\n')
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('reads archives that GNU tar writes (ustar format)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'osmoda-tar-'))
    try {
      writeFileSync(join(dir, 'x.txt'), 'from gnu tar')
      const archive = execFileSync('tar', ['--format=ustar', '-cf', '-', '-C', dir, 'x.txt'])
      const entries = parseTar(archive)
      expect(entries.map((e) => [e.name, e.type, e.data.toString()])).toEqual([['x.txt', 'file', 'from gnu tar']])
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('reports links as a type the restore refuses', () => {
    const archive = buildTar([{name: 'evil', type: 'file', mode: 0o777, typeflag: '2', linkname: '/etc/shadow'}])
    expect(parseTar(archive)[0]?.type).toBe('other:2')
  })

  it('refuses a corrupted header and a truncated archive', () => {
    // Given a good archive
    const archive = buildTar([{name: 'f', type: 'file', mode: 0o600, data: Buffer.from('x'.repeat(600))}])
    // When one header byte flips / the end is cut off
    const flipped = Buffer.from(archive)
    flipped[3] = (flipped[3] as number) ^ 0x01
    // Then parsing fails with VERIFICATION_FAILED
    expect(() => parseTar(flipped)).toThrow(expect.objectContaining({code: 'VERIFICATION_FAILED'}))
    expect(() => parseTar(archive.subarray(0, 700))).toThrow(expect.objectContaining({code: 'VERIFICATION_FAILED'}))
  })
})
