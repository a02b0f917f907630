import {closeSync, constants, mkdirSync, mkdtempSync, openSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {OsmodaError} from '../../../lib/errors.js'
import {checkPath, compilePathPolicy, resolvePath, verifyOpenFd, type FilesPolicyConfig, type PathAccess} from './path-policy.js'

let base: string
let config: FilesPolicyConfig

const policy = () => compilePathPolicy(config, {stateDir: join(base, 'state')})
const denial = (path: string, access: PathAccess = 'read'): {code: string; details: unknown} => {
  try {
    checkPath(path, {access}, policy())
  } catch (error) {
    return {code: (error as OsmodaError).code, details: (error as OsmodaError).details}
  }
  return {code: 'NO_ERROR', details: null}
}
const reason = (path: string, access: PathAccess = 'read') => (denial(path, access).details as {reason?: string} | null)?.reason ?? denial(path, access).code

beforeEach(() => {
  // realpath: the temp dir itself may sit behind a symlink on some hosts
  base = realpathSync(mkdtempSync(join(tmpdir(), 'osmoda-policy-')))
  for (const dir of ['read/dir', 'read/secret', 'outside', 'w/guarded', 'state/tokens', 'state/workspace-ops', 'real']) mkdirSync(join(base, dir), {recursive: true})
  for (const file of ['read/dir/file.txt', 'read/secret/key', 'outside/passwd', 'state/tokens/agent', 'state/ledger.db', 'state/ledger.db-wal', 'state/workspace-ops/notes.md']) {
    writeFileSync(join(base, file), 'x\n')
  }
  config = {
    readRoots: [join(base, 'read'), join(base, 'w'), '<state>', '<state>/workspace-*', join(base, 'alias')],
    denyPaths: [join(base, 'read/secret'), '<state>/tokens', '<state>/ledger.db*', join(base, 'read/**/*.pem')],
    writeRoots: [{path: join(base, 'w'), approval: false}, {path: join(base, 'w/guarded'), approval: true}, {path: '<state>/workspace-*', approval: false}],
  }
})

afterEach(() => rmSync(base, {recursive: true, force: true}))

describe('path policy: syntax before resolution', () => {
  it.each([
    ['relative', 'read/dir/file.txt', 'not_absolute'],
    ['NUL byte', '/tmp/a\0b', 'nul'],
    ['over 4096 bytes', `/${'é'.repeat(2048)}`, 'too_long'],
    ['.. segment', '/tmp/../etc/shadow', 'traversal'],
    ['.. at the end', '/tmp/..', 'traversal'],
  ])('%s → PATH_DENIED', (_name, path, want) => {
    expect(denial(path).code).toBe('PATH_DENIED')
    expect(reason(path)).toBe(want)
  })

  it('rejects .. even when it would land inside a root', () => {
    expect(reason(`${base}/read/dir/../dir/file.txt`)).toBe('traversal')
  })

  it('normalises . segments and repeated slashes', () => {
    const checked = checkPath(`${base}//read/./dir/file.txt`, {access: 'read'}, policy())
    expect(checked.path).toBe(join(base, 'read/dir/file.txt'))
    expect(checked.resolved).toBe(join(base, 'read/dir/file.txt'))
  })
})

describe('path policy: roots and the deny list', () => {
  it('allows a root and what lies below it, and nothing beside it', () => {
    expect(checkPath(join(base, 'read'), {access: 'read'}, policy()).root).toBe(join(base, 'read'))
    expect(checkPath(join(base, 'read/dir/missing/deeper'), {access: 'read'}, policy()).resolved).toBe(join(base, 'read/dir/missing/deeper'))
    expect(reason(join(base, 'readx/file'))).toBe('outside_roots')
    expect(reason(join(base, 'outside/passwd'))).toBe('outside_roots')
    expect(denial(join(base, 'outside/passwd')).details).toMatchObject({path: join(base, 'outside/passwd')})
  })

  it('denies the deny list, the ledger and the token files even under a read root', () => {
    expect(reason(join(base, 'read/secret'))).toBe('denied')
    expect(reason(join(base, 'read/secret/key'))).toBe('denied')
    expect(reason(join(base, 'state/tokens/agent'))).toBe('denied')
    expect(reason(join(base, 'state/tokens'))).toBe('denied')
    expect(reason(join(base, 'state/ledger.db'))).toBe('denied')
    expect(reason(join(base, 'state/ledger.db-wal'))).toBe('denied')
    expect(reason(join(base, 'read/dir/x/server.pem'))).toBe('denied')
    // And the state dir's other files stay readable, through the most specific root
    expect(checkPath(join(base, 'state/workspace-ops/notes.md'), {access: 'read'}, policy()).root).toBe(join(base, 'state/workspace-*'))
  })

  it('needs a write root for writes; the most specific one decides approval', () => {
    expect(checkPath(join(base, 'w/new.txt'), {access: 'write'}, policy())).toMatchObject({root: join(base, 'w'), approval: false})
    expect(checkPath(join(base, 'w/guarded/x/new.txt'), {access: 'write'}, policy())).toMatchObject({root: join(base, 'w/guarded'), approval: true})
    expect(checkPath(join(base, 'state/workspace-ops/a.md'), {access: 'write'}, policy())).toMatchObject({root: join(base, 'state/workspace-*'), approval: false})
    expect(reason(join(base, 'read/dir/file.txt'), 'write')).toBe('outside_roots')
    expect(reason(join(base, 'state/workspace-ops'), 'read')).toBe('NO_ERROR')
  })

  it('matches roots configured through a symlink by their real path', () => {
    // Given a root configured as a symlink to the real directory
    symlinkSync(join(base, 'real'), join(base, 'alias'))
    writeFileSync(join(base, 'real/f'), 'x')
    // Then the file is allowed whichever name is used
    expect(checkPath(join(base, 'alias/f'), {access: 'read'}, policy()).resolved).toBe(join(base, 'real/f'))
    expect(checkPath(join(base, 'real/f'), {access: 'read'}, policy()).root).toBe(join(base, 'alias'))
  })
})

describe('path policy: symlinks', () => {
  it('follows a symlink out of the roots and refuses it', () => {
    symlinkSync(join(base, 'outside/passwd'), join(base, 'read/link'))
    symlinkSync(join(base, 'outside'), join(base, 'read/dirlink'))
    expect(reason(join(base, 'read/link'))).toBe('outside_roots')
    expect(reason(join(base, 'read/dirlink/passwd'))).toBe('outside_roots')
  })

  it('refuses a symlink into the deny list and into the token files', () => {
    symlinkSync(join(base, 'read/secret/key'), join(base, 'read/innocent'))
    symlinkSync(join(base, 'state/tokens'), join(base, 'read/tok'))
    expect(reason(join(base, 'read/innocent'))).toBe('denied')
    expect(reason(join(base, 'read/tok/agent'))).toBe('denied')
  })

  it('follows relative links and dangling links to where a write would land', () => {
    symlinkSync('../../outside/new.txt', join(base, 'w/guarded/dangling'))
    symlinkSync('guarded/later.txt', join(base, 'w/rel'))
    expect(resolvePath(join(base, 'w/guarded/dangling'))).toBe(join(base, 'outside/new.txt'))
    expect(reason(join(base, 'w/guarded/dangling'), 'write')).toBe('outside_roots')
    // A link from an ungated root into a gated one takes the gated root's approval
    expect(checkPath(join(base, 'w/rel'), {access: 'write'}, policy())).toMatchObject({resolved: join(base, 'w/guarded/later.txt'), approval: true})
  })

  it('refuses a symlink loop', () => {
    symlinkSync(join(base, 'read/b'), join(base, 'read/a'))
    symlinkSync(join(base, 'read/a'), join(base, 'read/b'))
    expect(reason(join(base, 'read/a/x'))).toBe('symlink_loop')
  })

  it('catches a directory swapped for a symlink after the check (fd re-check)', () => {
    // Given a path that passed the check
    const checked = checkPath(join(base, 'read/dir/file.txt'), {access: 'read'}, policy())
    // When the directory is swapped for a symlink to a file outside the roots before the open
    writeFileSync(join(base, 'outside/file.txt'), 'secret')
    renameSync(join(base, 'read/dir'), join(base, 'read/old'))
    symlinkSync(join(base, 'outside'), join(base, 'read/dir'))
    const fd = openSync(checked.resolved, constants.O_RDONLY | constants.O_NOFOLLOW)
    // Then the descriptor's real path fails the re-check
    try {
      expect(() => verifyOpenFd(fd, checked, 'read', policy())).toThrow(expect.objectContaining({code: 'PATH_DENIED', details: {path: checked.path, reason: 'changed_during_check'}}))
    } finally {
      closeSync(fd)
    }
  })

  it('catches a swap into a gated root for an ungated write', () => {
    const checked = checkPath(join(base, 'w/sub/f'), {access: 'write'}, policy())
    expect(checked.approval).toBe(false)
    symlinkSync(join(base, 'w/guarded'), join(base, 'w/sub'))
    writeFileSync(join(base, 'w/guarded/f'), 'x')
    const fd = openSync(checked.resolved, constants.O_RDONLY | constants.O_NOFOLLOW)
    try {
      expect(() => verifyOpenFd(fd, checked, 'write', policy())).toThrow(expect.objectContaining({code: 'PATH_DENIED'}))
    } finally {
      closeSync(fd)
    }
  })

  it('accepts the descriptor when nothing changed', () => {
    const checked = checkPath(join(base, 'read/dir/file.txt'), {access: 'read'}, policy())
    const fd = openSync(checked.resolved, constants.O_RDONLY | constants.O_NOFOLLOW)
    try {
      expect(verifyOpenFd(fd, checked, 'read', policy())).toBe(checked.resolved)
    } finally {
      closeSync(fd)
    }
  })
})
