import {mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {expandGlob, resolveMasks} from './masks.js'

let root: string

beforeEach(() => {
  // /var/tmp rather than /tmp: the paths must look like ordinary host paths, not sandbox-private ones.
  root = mkdtempSync('/var/tmp/osmoda-masks-')
  for (const dir of ['home/alice/.ssh', 'home/bob/.ssh', 'home/.hidden/.ssh', 'home/carol', 'etc/ssh', 'state/workspace-ops/a/b', 'state/tokens']) mkdirSync(join(root, dir), {recursive: true})
  for (const file of ['etc/ssh/ssh_host_rsa_key', 'etc/ssh/ssh_host_ed25519_key', 'etc/ssh/ssh_host_rsa_key.pub', 'etc/shadow', 'state/workspace-ops/a/b/auth-profiles.json', 'state/tokens/agent']) {
    writeFileSync(join(root, file), 'secret')
  }
})

afterEach(() => rmSync(root, {recursive: true, force: true}))

describe('expandGlob', () => {
  it('matches * per segment against the real filesystem, dot entries included', () => {
    // When /home/*/.ssh is expanded / Then every user's .ssh that exists is found, hidden users too
    expect(expandGlob(`${root}/home/*/.ssh`).sort()).toEqual([`${root}/home/.hidden/.ssh`, `${root}/home/alice/.ssh`, `${root}/home/bob/.ssh`])
  })

  it('matches a pattern inside a file name and leaves non-matching files alone', () => {
    expect(expandGlob(`${root}/etc/ssh/ssh_host_*_key`).sort()).toEqual([`${root}/etc/ssh/ssh_host_ed25519_key`, `${root}/etc/ssh/ssh_host_rsa_key`])
  })

  it('descends any depth for **', () => {
    expect(expandGlob(`${root}/state/workspace-*/**/auth-profiles.json`)).toEqual([`${root}/state/workspace-ops/a/b/auth-profiles.json`])
  })

  it('returns nothing for a path that does not exist, and the path itself when it does', () => {
    expect(expandGlob(`${root}/nope/*`)).toEqual([])
    expect(expandGlob(`${root}/etc/shadow`)).toEqual([`${root}/etc/shadow`])
  })
})

describe('resolveMasks', () => {
  it('hides directories with tmpfs and files with /dev/null, following symlinks to the real path', () => {
    // Given a symlink that points at a secret file
    symlinkSync(join(root, 'etc/shadow'), join(root, 'shadow-link'))
    // When the masks of the link and a directory are resolved
    const masks = resolveMasks([`${root}/shadow-link`, `${root}/state/tokens`])
    // Then the real file is masked as a file and the directory as a directory
    expect(masks).toEqual([
      {path: `${root}/etc/shadow`, kind: 'file'},
      {path: `${root}/state/tokens`, kind: 'dir'},
    ])
  })

  it('drops paths inside an already masked directory, duplicates and paths the sandbox hides anyway', () => {
    const masks = resolveMasks([`${root}/state/tokens/agent`, `${root}/state`, `${root}/state`, `${root}/home/*/.ssh`], (path) => path.startsWith(`${root}/home/bob`))
    expect(masks).toEqual([
      {path: `${root}/home/.hidden/.ssh`, kind: 'dir'},
      {path: `${root}/home/alice/.ssh`, kind: 'dir'},
      {path: `${root}/state`, kind: 'dir'},
    ])
  })
})
