import {describe, expect, it} from 'vitest'
import {compileGlob, globCovers, globMatches, matchedPrefixes, splitPath} from './glob.js'

describe('path globs', () => {
  it.each([
    // [pattern, path, matches whole path]
    ['/etc/shadow', '/etc/shadow', true],
    ['/etc/shadow', '/etc/shadow2', false],
    ['/etc/ssh/ssh_host_*_key', '/etc/ssh/ssh_host_ed25519_key', true],
    ['/etc/ssh/ssh_host_*_key', '/etc/ssh/ssh_host_ed25519_key.pub', false],
    ['/etc/ssh/ssh_host_*_key', '/etc/ssh/x/ssh_host_a_key', false],
    ['/home/*/.ssh', '/home/bob/.ssh', true],
    ['/home/*/.ssh', '/home/.hidden/.ssh', true],
    ['/home/*/.ssh', '/home/bob/x/.ssh', false],
    ['/home/*/.ssh', '/home/.ssh', false],
    ['/var/lib/osmoda/ledger.db*', '/var/lib/osmoda/ledger.db', true],
    ['/var/lib/osmoda/ledger.db*', '/var/lib/osmoda/ledger.db-wal', true],
    ['/var/lib/osmoda/ledger.db*', '/var/lib/osmoda/ledger.dbx/y', false],
    ['/s/workspace-*/**/auth-profiles.json', '/s/workspace-a/auth-profiles.json', true],
    ['/s/workspace-*/**/auth-profiles.json', '/s/workspace-a/x/y/z/auth-profiles.json', true],
    ['/s/workspace-*/**/auth-profiles.json', '/s/workspace-a/x/auth-profiles.json.bak', false],
    ['/s/workspace-*/**/auth-profiles.json', '/s/other/auth-profiles.json', false],
    ['/a/?.txt', '/a/b.txt', true],
    ['/a/?.txt', '/a/bc.txt', false],
    ['/a/?', '/a//', false],
    ['/a.b/(x)+[y]', '/a.b/(x)+[y]', true],
    ['/a.b/c', '/aXb/c', false],
    ['/**', '/anything/at/all', true],
    ['/', '/', true],
    ['/x/**/y/**', '/x/y', true],
  ])('%s vs %s → %s', (pattern, path, want) => {
    expect(globMatches(compileGlob(pattern), path)).toBe(want)
  })

  it('covers descendants of a match but not siblings or ancestors', () => {
    // Given a deny entry for a directory
    const glob = compileGlob('/home/*/.ssh')
    // Then files below a matched directory are covered, its parent and lookalikes are not
    expect(globCovers(glob, '/home/bob/.ssh/id_ed25519')).toBe(true)
    expect(globCovers(glob, '/home/bob')).toBe(false)
    expect(globCovers(glob, '/home/bob/.sshx/key')).toBe(false)
  })

  it('reports every matched prefix length, for the most-specific-root rule', () => {
    expect(matchedPrefixes(compileGlob('/a/**'), splitPath('/a/b/c'))).toEqual([1, 2, 3])
    expect(matchedPrefixes(compileGlob('/a/b'), splitPath('/a/b/c'))).toEqual([2])
    expect(matchedPrefixes(compileGlob('/a/b'), splitPath('/a'))).toEqual([])
  })

  it('knows the literal part before the first wildcard', () => {
    expect(compileGlob('/var/lib/osmoda/workspace-*/x').literalPrefix).toBe('/var/lib/osmoda')
    expect(compileGlob('/etc/shadow').literalPrefix).toBe('/etc/shadow')
    expect(compileGlob('/**').literalPrefix).toBe('/')
  })

  it('stays fast on a pathological pattern (memoised)', () => {
    const glob = compileGlob(`/${Array.from({length: 20}, () => '**').join('/')}/z`)
    const path = `/${Array.from({length: 200}, () => 'a').join('/')}`
    const started = performance.now()
    expect(globMatches(glob, path)).toBe(false)
    expect(performance.now() - started).toBeLessThan(500)
  })
})
