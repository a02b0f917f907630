import {chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync} from 'node:fs'
import {createHash} from 'node:crypto'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {OsmodaError} from '../../../lib/errors.js'
import {openLedger, type Ledger} from '../../../lib/ledger/ledger.js'
import {APPROVED_ID, createTestGate} from '../../../../test/helpers/test-gate.js'
import {FileWriteInput} from './api.js'
import {createFileService, type FilesSettings} from './service.js'
import type {WriteHooks} from './write.js'
import type {CheckedPath} from './path-policy.js'

let base: string
let ledger: Ledger
let settings: FilesSettings
let gate: ReturnType<typeof createTestGate>
let hooks: WriteHooks & {beforeOpen?: (checked: CheckedPath) => void}

const AGENT = {role: 'agent' as const, actor: 'agent:ops'}
const OPERATOR = {role: 'operator' as const, actor: 'operator:alice'}
const NOBODY = 65534
const at = (rel: string) => join(base, rel)
const write = (input: Record<string, unknown>, ctx: {role: 'agent' | 'operator'; actor: string} = AGENT) =>
  createFileService({settings: () => settings, paths: {stateDir: at('state')}, gate, ledger, hooks}).write(FileWriteInput.parse(input), ctx)
const failure = (fn: () => unknown): {code: string; details?: any; hint?: string} => {
  try {
    fn()
  } catch (error) {
    const e = error as OsmodaError
    return {code: e.code, details: e.details, hint: e.hint}
  }
  return {code: 'NO_ERROR'}
}
const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')
const written = () => ledger.query({type: 'file.written', limit: 100, order: 'asc'})
const modeOf = (path: string) => statSync(path).mode & 0o7777

beforeEach(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'osmoda-write-')))
  for (const dir of ['w/app', 'w/guarded', 'outside', 'state/tokens']) mkdirSync(at(dir), {recursive: true})
  ledger = openLedger(at('ledger.db'))
  settings = {
    readRoots: [at('w')],
    denyPaths: ['<state>/tokens', '<state>/ledger.db*', at('w/app/*.key')],
    writeRoots: [{path: at('w'), approval: false}, {path: at('w/guarded'), approval: true}, {path: '<state>', approval: false}],
    maxReadBytes: 1_000_000,
    maxWriteBytes: 64,
  }
  gate = createTestGate()
  hooks = {}
})

afterEach(() => {
  ledger.close()
  rmSync(base, {recursive: true, force: true})
})

describe('file_write: new files, existing files, append', () => {
  it('creates a file with mode 0644 owned like its directory, and ledgers file.written', () => {
    // Given a directory owned by another user
    chownSync(at('w/app'), NOBODY, NOBODY)
    // When the agent writes a new file
    const out = write({path: at('w/app/config.yml'), content: 'port: 8080\n'})
    // Then the file holds the content, takes the directory's owner and mode 0644
    expect(out).toEqual({path: at('w/app/config.yml'), bytes: 11, sha256: sha('port: 8080\n'), created: true, mode: '0644'})
    expect(readFileSync(at('w/app/config.yml'), 'utf8')).toBe('port: 8080\n')
    expect(statSync(at('w/app/config.yml'))).toMatchObject({uid: NOBODY, gid: NOBODY})
    expect(modeOf(at('w/app/config.yml'))).toBe(0o644)
    // And the ledger records it under the agent, without the content
    expect(written().map((e) => [e.actor, e.payload])).toEqual([['agent:ops', {path: at('w/app/config.yml'), bytes: 11, sha256: sha('port: 8080\n'), created: true, append: false, approval_id: null}]])
    // And the ungated root was passed to the gate as not_required, without approval_id in the body
    expect(gate.calls).toHaveLength(1)
    expect(gate.calls[0]).toMatchObject({operation: 'file_write', method: 'POST', path: '/file/write', hint: 'not_required', approvalId: null, ctx: AGENT})
    expect(gate.calls[0]!.body).toEqual({path: at('w/app/config.yml'), content: 'port: 8080\n', encoding: 'utf8', append: false, create_dirs: false})
  })

  it('replaces an existing file keeping its owner and mode, or setting the given mode', () => {
    // Given a file owned by another user with mode 0600
    writeFileSync(at('w/app/db.conf'), 'old\n')
    chownSync(at('w/app/db.conf'), NOBODY, NOBODY)
    chmodSync(at('w/app/db.conf'), 0o600)
    // When it is rewritten, then rewritten with an explicit mode
    const kept = write({path: at('w/app/db.conf'), content: 'new\n'})
    expect(kept).toMatchObject({created: false, mode: '0600', bytes: 4})
    expect(statSync(at('w/app/db.conf'))).toMatchObject({uid: NOBODY, gid: NOBODY})
    expect(readFileSync(at('w/app/db.conf'), 'utf8')).toBe('new\n')
    const changed = write({path: at('w/app/db.conf'), content: 'newer\n', mode: '0640'})
    // Then the owner stays and the mode is the one asked for
    expect(changed.mode).toBe('0640')
    expect(modeOf(at('w/app/db.conf'))).toBe(0o640)
    expect(statSync(at('w/app/db.conf')).uid).toBe(NOBODY)
  })

  it('drops setuid and setgid when keeping the mode of a rewritten file', () => {
    writeFileSync(at('w/app/tool'), '#!/bin/sh\n')
    chmodSync(at('w/app/tool'), 0o6755)
    expect(write({path: at('w/app/tool'), content: '#!/bin/sh\nexit 0\n'}).mode).toBe('0755')
    expect(modeOf(at('w/app/tool'))).toBe(0o755)
  })

  it('appends with O_APPEND, creating the file when missing', () => {
    const first = write({path: at('w/app/log.txt'), content: 'a\n', append: true})
    const second = write({path: at('w/app/log.txt'), content: 'b\n', append: true})
    expect(first).toMatchObject({created: true, bytes: 2, mode: '0644'})
    expect(second).toMatchObject({created: false, bytes: 2, sha256: sha('b\n')})
    expect(readFileSync(at('w/app/log.txt'), 'utf8')).toBe('a\nb\n')
    expect(written().map((e) => [e.payload.append, e.payload.created])).toEqual([[true, true], [true, false]])
  })

  it('decodes base64 content and refuses malformed base64', () => {
    const bytes = Buffer.from([0, 1, 2, 250, 255])
    expect(write({path: at('w/app/blob'), content: bytes.toString('base64'), encoding: 'base64'})).toMatchObject({bytes: 5, sha256: sha(bytes)})
    expect(readFileSync(at('w/app/blob'))).toEqual(bytes)
    expect(failure(() => write({path: at('w/app/blob2'), content: 'not base64!', encoding: 'base64'})).code).toBe('VALIDATION_FAILED')
  })

  it('creates missing directories with mode 0755 owned like their parent, only with create_dirs', () => {
    chownSync(at('w/app'), NOBODY, NOBODY)
    expect(failure(() => write({path: at('w/app/a/b/c.txt'), content: 'x'}))).toMatchObject({code: 'NOT_FOUND', hint: expect.stringContaining('create_dirs')})
    expect(write({path: at('w/app/a/b/c.txt'), content: 'x', create_dirs: true}).created).toBe(true)
    for (const dir of ['w/app/a', 'w/app/a/b']) {
      expect(modeOf(at(dir))).toBe(0o755)
      expect(statSync(at(dir))).toMatchObject({uid: NOBODY, gid: NOBODY})
    }
    expect(statSync(at('w/app/a/b/c.txt')).uid).toBe(NOBODY)
  })
})

describe('file_write: atomicity', () => {
  it('leaves the old file intact and no temp file when the write fails before the rename', () => {
    // Given an existing file
    writeFileSync(at('w/app/state.json'), '{"v":1}')
    let temp = ''
    hooks = {
      beforeRename: (path) => {
        temp = path
        throw new Error('disk on fire')
      },
    }
    // When the write fails after the temp file was written
    expect(() => write({path: at('w/app/state.json'), content: '{"v":2}'})).toThrow('disk on fire')
    // Then the old content is there, the temp file (named .<name>.osmoda-<random>) is gone, nothing is ledgered
    expect(temp).toMatch(/\/\.state\.json\.osmoda-[0-9a-f]{12}$/)
    expect(readFileSync(at('w/app/state.json'), 'utf8')).toBe('{"v":1}')
    expect(readdirSync(at('w/app'))).toEqual(['state.json'])
    expect(written()).toEqual([])
  })

  it('never shows a half-written file: the temp file only appears under its own name', () => {
    writeFileSync(at('w/app/state.json'), '{"v":1}')
    let seen: string[] = []
    let content = ''
    hooks = {
      beforeRename: () => {
        seen = readdirSync(at('w/app')).sort()
        content = readFileSync(at('w/app/state.json'), 'utf8')
      },
    }
    write({path: at('w/app/state.json'), content: '{"v":2}'})
    expect(seen).toEqual(['.state.json.osmoda-' + seen[0]!.slice('.state.json.osmoda-'.length), 'state.json'])
    expect(content).toBe('{"v":1}')
    expect(readFileSync(at('w/app/state.json'), 'utf8')).toBe('{"v":2}')
  })
})

describe('file_write: policy and approval', () => {
  it('asks the gate with hint required for an approval root: 412, nothing written, then writes with the approval', () => {
    // When the agent writes under a root with approval: true
    const first = failure(() => write({path: at('w/guarded/nixos.conf'), content: 'x'}))
    // Then the gate answers 412 with the operation and a summary, and nothing is written
    expect(first).toMatchObject({code: 'APPROVAL_REQUIRED', details: {operation: 'file_write', summary: expect.stringContaining(at('w/guarded/nixos.conf'))}})
    expect(gate.calls[0]).toMatchObject({hint: 'required', approvalId: null})
    expect(readdirSync(at('w/guarded'))).toEqual([])
    expect(written()).toEqual([])
    // When repeated with the approved id
    const out = write({path: at('w/guarded/nixos.conf'), content: 'x', approval_id: APPROVED_ID})
    // Then it is written and the ledger names the approval; the digest body excludes approval_id
    expect(out.created).toBe(true)
    expect(written()[0]?.payload).toMatchObject({approval_id: APPROVED_ID})
    expect(gate.calls[1]).toMatchObject({approvalId: APPROVED_ID})
    expect(gate.calls[1]!.body).not.toHaveProperty('approval_id')
    expect(gate.calls[1]!.body).toEqual(gate.calls[0]!.body)
  })

  it('passes operator writes through the gate as operator calls', () => {
    expect(write({path: at('w/guarded/a'), content: 'x'}, OPERATOR).created).toBe(true)
    expect(gate.calls[0]).toMatchObject({ctx: OPERATOR, hint: 'required'})
    expect(written()[0]?.actor).toBe('operator:alice')
  })

  it('takes the approval of the root a symlink lands in', () => {
    symlinkSync(at('w/guarded/real.conf'), at('w/app/link.conf'))
    expect(failure(() => write({path: at('w/app/link.conf'), content: 'x'})).code).toBe('APPROVAL_REQUIRED')
    expect(gate.calls[0]).toMatchObject({hint: 'required', summary: expect.stringContaining(`resolves to ${at('w/guarded/real.conf')}`)})
  })

  it.each([
    ['outside the write roots', () => at('outside/x')],
    ['a symlink out of the roots', () => (symlinkSync(at('outside'), at('w/app/out')), at('w/app/out/x'))],
    ['a dangling symlink out of the roots', () => (symlinkSync(at('outside/new'), at('w/app/dangle')), at('w/app/dangle'))],
    ['the token files', () => at('state/tokens/agent')],
    ['the ledger', () => at('state/ledger.db')],
    ['the ledger WAL', () => at('state/ledger.db-wal')],
    ['a deny glob', () => at('w/app/server.key')],
    ['a traversal', () => `${at('w/app')}/../../outside/x`],
  ])('refuses %s with PATH_DENIED before asking the gate', (_name, path) => {
    const target = path()
    expect(failure(() => write({path: target, content: 'x', create_dirs: true}))).toMatchObject({code: 'PATH_DENIED', details: {path: expect.any(String)}})
    expect(gate.calls).toEqual([])
    expect(readdirSync(at('outside'))).toEqual([])
    expect(readdirSync(at('state/tokens'))).toEqual([])
    expect(written()).toEqual([])
  })

  it('refuses content over files.maxWriteBytes with 413 and a directory with 400, before the gate', () => {
    expect(failure(() => write({path: at('w/app/big'), content: 'x'.repeat(65)}))).toMatchObject({code: 'PAYLOAD_TOO_LARGE', details: {size_bytes: 65, max_bytes: 64}})
    expect(failure(() => write({path: at('w/app'), content: 'x'})).code).toBe('VALIDATION_FAILED')
    expect(gate.calls).toEqual([])
    expect(readdirSync(at('w/app'))).toEqual([])
  })
})

describe('file_write: symlinks swapped in after the check', () => {
  it('refuses when the directory becomes a symlink out of the roots', () => {
    // Given a write that passed the check
    hooks = {
      beforeOpen: () => {
        renameSync(at('w/app'), at('w/app-old'))
        symlinkSync(at('outside'), at('w/app'))
      },
    }
    // Then it is refused and nothing lands outside
    expect(failure(() => write({path: at('w/app/x.conf'), content: 'x'}))).toMatchObject({code: 'PATH_DENIED', details: {reason: 'changed_during_check'}})
    expect(readdirSync(at('outside'))).toEqual([])
    expect(written()).toEqual([])
  })

  it('refuses when an intermediate directory becomes a symlink into a gated root', () => {
    mkdirSync(at('w/app/sub'))
    hooks = {
      beforeOpen: () => {
        rmSync(at('w/app/sub'), {recursive: true})
        symlinkSync(at('w/guarded'), at('w/app/sub'))
      },
    }
    expect(failure(() => write({path: at('w/app/sub/x'), content: 'x'})).code).toBe('PATH_DENIED')
    expect(readdirSync(at('w/guarded'))).toEqual([])
  })

  it('refuses when the file becomes a symlink (append and replace)', () => {
    writeFileSync(at('outside/passwd'), 'root\n')
    for (const append of [false, true]) {
      writeFileSync(at('w/app/f'), 'mine\n')
      hooks = {
        beforeOpen: () => {
          unlinkSync(at('w/app/f'))
          symlinkSync(at('outside/passwd'), at('w/app/f'))
        },
      }
      expect(failure(() => write({path: at('w/app/f'), content: 'evil\n', append})).code).toBe('PATH_DENIED')
      expect(readFileSync(at('outside/passwd'), 'utf8')).toBe('root\n')
      unlinkSync(at('w/app/f'))
    }
  })

  it('creates directories only inside the write roots even when a parent is swapped', () => {
    hooks = {
      beforeOpen: () => {
        renameSync(at('w/app'), at('w/app-old'))
        symlinkSync(at('outside'), at('w/app'))
      },
    }
    expect(failure(() => write({path: at('w/app/new/dir/x'), content: 'x', create_dirs: true})).code).toBe('PATH_DENIED')
    expect(readdirSync(at('outside'))).toEqual([])
  })
})
