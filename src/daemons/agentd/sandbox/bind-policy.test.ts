import {mkdirSync, mkdtempSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {checkBind, deniedAtOrAbove, deniedAtOrBelow} from './bind-policy.js'

const dir = mkdtempSync(join(tmpdir(), 'osmoda-binds-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

describe('deny globs', () => {
  it.each([
    ['/etc/shadow', '/etc/shadow', true],
    ['/etc/shadow', '/etc/shadow.d/x', false],
    ['/root', '/root/.bashrc', true],
    ['/home/*/.ssh', '/home/alice/.ssh/id_ed25519', true],
    ['/home/*/.ssh', '/home/alice/notes', false],
    ['/etc/ssh/ssh_host_*_key', '/etc/ssh/ssh_host_ed25519_key', true],
    ['/etc/ssh/ssh_host_*_key', '/etc/ssh/ssh_host_ed25519_key.pub', false],
    ['/var/lib/osmoda/ledger.db*', '/var/lib/osmoda/ledger.db-wal', true],
    ['/s/workspace-*/**/auth-profiles.json', '/s/workspace-a/x/y/auth-profiles.json', true],
    ['/s/workspace-*/**/auth-profiles.json', '/s/workspace-a/auth-profiles.json', true],
  ])('%s covers %s: %s', (pattern, path, want) => {
    expect(deniedAtOrAbove(pattern, path)).toBe(want)
  })

  it.each([
    ['/etc/shadow', '/etc', true],
    ['/etc/shadow', '/', true],
    ['/etc/shadow', '/srv', false],
    ['/home/*/.ssh', '/home', true],
    ['/home/*/.ssh', '/home/alice', true],
    ['/home/*/.ssh', '/srv/home', false],
    ['/s/workspace-*/**/auth-profiles.json', '/s/workspace-a/deep', true],
    ['/s/tokens', '/s/sandbox', false],
  ])('mounting %s would expose something matching %s: %s', (pattern, path, want) => {
    expect(deniedAtOrBelow(pattern, path)).toBe(want)
  })
})

describe('checkBind', () => {
  const deny = ['/etc/shadow', '/root', `${dir}/state/tokens`]

  it('accepts an existing path and returns its real path', () => {
    mkdirSync(join(dir, 'data'))
    symlinkSync(join(dir, 'data'), join(dir, 'link'))
    expect(checkBind(join(dir, 'data'), deny)).toEqual({ok: true, path: join(dir, 'data'), source: join(dir, 'data')})
    expect(checkBind(join(dir, 'link'), deny)).toEqual({ok: true, path: join(dir, 'link'), source: join(dir, 'data')})
  })

  it.each([
    ['relative', 'srv/data', 'not_absolute'],
    ['dot-dot', '/srv/../etc', 'dot_dot'],
    ['missing', '/nonexistent/osmoda/path', 'missing'],
    ['a denied file', '/etc/shadow', 'denied_path'],
    ['a parent of a denied file', '/etc', 'denied_path'],
    ['the root', '/', 'denied_path'],
  ])('refuses %s', (_name, path, reason) => {
    expect(checkBind(path, deny)).toMatchObject({ok: false, reason})
  })

  it('refuses a symlink whose target is a denied path, and a parent of the state tokens', () => {
    mkdirSync(join(dir, 'state/tokens'), {recursive: true})
    symlinkSync(join(dir, 'state'), join(dir, 'innocent'))
    expect(checkBind(join(dir, 'innocent'), deny)).toMatchObject({ok: false, reason: 'denied_path'})
    expect(checkBind(join(dir, 'state'), deny)).toMatchObject({ok: false, reason: 'denied_path'})
  })
})
