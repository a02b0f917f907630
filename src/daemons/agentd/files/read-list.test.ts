import {chmodSync, mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {OsmodaError} from '../../../lib/errors.js'
import {createTestGate} from '../../../../test/helpers/test-gate.js'
import {DirectoryListInput, FileReadInput} from './api.js'
import type {CheckedPath} from './path-policy.js'
import {createFileService, type FilesSettings} from './service.js'

let base: string
let settings: FilesSettings
let beforeOpen: ((checked: CheckedPath) => void) | undefined

const service = () => createFileService({settings: () => settings, paths: {stateDir: join(base, 'state')}, gate: createTestGate(), ledger: {append: () => { throw new Error('read-only tools must not write the ledger') }}, hooks: {beforeOpen: (c) => beforeOpen?.(c)}})
const read = (input: Record<string, unknown>) => service().read(FileReadInput.parse(input))
const list = (input: Record<string, unknown>) => service().list(DirectoryListInput.parse(input))
const failure = (fn: () => unknown): {code: string; details?: any; hint?: string} => {
  try {
    fn()
  } catch (error) {
    const e = error as OsmodaError
    return {code: e.code, details: e.details, hint: e.hint}
  }
  return {code: 'NO_ERROR'}
}
const at = (rel: string) => join(base, rel)

beforeEach(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'osmoda-files-')))
  for (const dir of ['root/app/conf', 'root/secret', 'outside', 'state/tokens']) mkdirSync(at(dir), {recursive: true})
  writeFileSync(at('root/app/five.txt'), 'one\ntwo\nthree\nfour\nfive\n')
  writeFileSync(at('outside/passwd'), 'root:x:0:0\n')
  writeFileSync(at('state/tokens/agent'), 'osm_ag_secret\n')
  writeFileSync(at('state/ledger.db'), 'SQLite format 3\0')
  settings = {
    readRoots: [at('root'), '<state>'],
    denyPaths: [at('root/secret'), '<state>/tokens', '<state>/ledger.db*'],
    writeRoots: [],
    maxReadBytes: 1000,
    maxWriteBytes: 1000,
  }
  beforeOpen = undefined
})

afterEach(() => rmSync(base, {recursive: true, force: true}))

describe('file_read', () => {
  it('returns a window of lines that pages back to the whole file', () => {
    // When the file is read two lines at a time
    const first = read({path: at('root/app/five.txt'), max_lines: 2})
    const second = read({path: at('root/app/five.txt'), offset_line: 3, max_lines: 2})
    const last = read({path: at('root/app/five.txt'), offset_line: 5, max_lines: 2})
    // Then each page says where it is and whether more follows
    expect(first).toMatchObject({path: at('root/app/five.txt'), resolved_path: at('root/app/five.txt'), size: 24, encoding: 'utf8', content: 'one\ntwo\n', first_line: 1, lines_returned: 2, total_lines: 5, truncated: true})
    expect(second).toMatchObject({content: 'three\nfour\n', first_line: 3, lines_returned: 2, truncated: true})
    expect(last).toMatchObject({content: 'five\n', lines_returned: 1, truncated: false})
    expect(first.content + second.content + last.content).toBe('one\ntwo\nthree\nfour\nfive\n')
    expect(first.mtime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
  })

  it('counts a last line without a newline, an empty file, and an offset past the end', () => {
    writeFileSync(at('root/a.txt'), 'a\nb')
    writeFileSync(at('root/empty'), '')
    expect(read({path: at('root/a.txt')})).toMatchObject({content: 'a\nb', total_lines: 2, lines_returned: 2, truncated: false})
    expect(read({path: at('root/empty')})).toMatchObject({content: '', total_lines: 0, lines_returned: 0, truncated: false})
    expect(read({path: at('root/a.txt'), offset_line: 9})).toMatchObject({content: '', first_line: 9, lines_returned: 0, total_lines: 2, truncated: false})
  })

  it('refuses binary content as utf8 with a hint, and returns it exactly as base64', () => {
    const bytes = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0xff, 0x0a, 0x01])
    writeFileSync(at('root/bin'), bytes)
    writeFileSync(at('root/latin1'), Buffer.from([0x63, 0x61, 0x66, 0xe9]))
    expect(failure(() => read({path: at('root/bin')}))).toMatchObject({code: 'VALIDATION_FAILED', hint: expect.stringContaining('base64')})
    expect(failure(() => read({path: at('root/latin1')})).code).toBe('VALIDATION_FAILED')
    const out = read({path: at('root/bin'), encoding: 'base64'})
    expect(Buffer.from(out.content, 'base64')).toEqual(bytes)
    expect(out).toMatchObject({encoding: 'base64', total_lines: 2, size: 8})
  })

  it('answers 413 over files.maxReadBytes, 404 when missing, 400 for a directory', () => {
    writeFileSync(at('root/big'), 'x'.repeat(1001))
    expect(failure(() => read({path: at('root/big')}))).toMatchObject({code: 'PAYLOAD_TOO_LARGE', details: {size_bytes: 1001, max_bytes: 1000}})
    expect(failure(() => read({path: at('root/nope.txt')}))).toMatchObject({code: 'NOT_FOUND', details: {path: at('root/nope.txt')}})
    expect(failure(() => read({path: at('root/app')}))).toMatchObject({code: 'VALIDATION_FAILED', hint: expect.stringContaining('directory_list')})
  })

  it('refuses the deny list, the ledger and the token files, and symlink escapes', () => {
    writeFileSync(at('root/secret/key'), 'k')
    symlinkSync(at('outside/passwd'), at('root/app/passwd'))
    symlinkSync(at('state/tokens/agent'), at('root/app/token'))
    for (const path of [at('state/tokens/agent'), at('state/ledger.db'), at('root/secret/key'), at('root/app/passwd'), at('root/app/token'), at('outside/passwd'), `${at('root')}/../outside/passwd`]) {
      const denied = failure(() => read({path}))
      expect(denied, path).toMatchObject({code: 'PATH_DENIED', details: {path: expect.any(String)}})
    }
  })

  it('applies changed roots (a config reload) to the next request', () => {
    const files = service()
    expect(files.read(FileReadInput.parse({path: at('root/app/five.txt')})).total_lines).toBe(5)
    settings = {...settings, readRoots: ['<state>']}
    expect(failure(() => files.read(FileReadInput.parse({path: at('root/app/five.txt')})))).toMatchObject({code: 'PATH_DENIED', details: {reason: 'outside_roots'}})
  })

  it('follows a symlink that stays inside the roots and says where it landed', () => {
    symlinkSync('five.txt', at('root/app/latest'))
    expect(read({path: at('root/app/latest'), max_lines: 1})).toMatchObject({path: at('root/app/latest'), resolved_path: at('root/app/five.txt'), content: 'one\n'})
  })

  it('refuses a directory swapped for a symlink between the check and the open', () => {
    // Given a file outside the roots with the same relative name
    mkdirSync(at('outside/app'))
    writeFileSync(at('outside/app/five.txt'), 'stolen\n')
    // When app/ is replaced by a symlink to outside/app right after the check
    beforeOpen = () => {
      renameSync(at('root/app'), at('root/app-old'))
      symlinkSync(at('outside/app'), at('root/app'))
    }
    // Then the read is refused as changed during the check
    expect(failure(() => read({path: at('root/app/five.txt')}))).toMatchObject({code: 'PATH_DENIED', details: {reason: 'changed_during_check'}})
  })

  it('refuses the file itself swapped for a symlink between the check and the open (O_NOFOLLOW)', () => {
    beforeOpen = () => {
      unlinkSync(at('root/app/five.txt'))
      symlinkSync(at('outside/passwd'), at('root/app/five.txt'))
    }
    expect(failure(() => read({path: at('root/app/five.txt')}))).toMatchObject({code: 'PATH_DENIED', details: {reason: 'changed_during_check'}})
  })
})

describe('directory_list', () => {
  beforeEach(() => {
    writeFileSync(at('root/app/.env'), 'A=1\n')
    writeFileSync(at('root/app/conf/site.conf'), 'listen 80;\n')
    mkdirSync(at('root/app/conf/deep/deeper'), {recursive: true})
    writeFileSync(at('root/app/conf/deep/deeper/x'), 'x')
    symlinkSync(at('outside'), at('root/app/escape'))
    chmodSync(at('root/app/five.txt'), 0o640)
  })

  it('lists one level, sorted, with type, size, mode, mtime and symlink targets', () => {
    const out = list({path: at('root/app')})
    expect(out.truncated).toBe(false)
    expect(out.entries.map((e) => [e.name, e.type])).toEqual([['.env', 'file'], ['conf', 'dir'], ['escape', 'symlink'], ['five.txt', 'file']])
    expect(out.entries.find((e) => e.name === 'five.txt')).toMatchObject({path: at('root/app/five.txt'), size: 24, mode: '0640', target: null})
    expect(out.entries.find((e) => e.name === 'escape')).toMatchObject({target: at('outside')})
  })

  it('recurses breadth first to max_depth and never through a symlink', () => {
    const two = list({path: at('root/app'), recursive: true, max_depth: 2})
    const all = list({path: at('root/app'), recursive: true, max_depth: 10})
    expect(two.entries.map((e) => e.path.slice(at('root/app').length + 1))).toEqual(['.env', 'conf', 'escape', 'five.txt', 'conf/deep', 'conf/site.conf'])
    expect(all.entries.map((e) => e.path)).toContain(at('root/app/conf/deep/deeper/x'))
    expect(all.entries.some((e) => e.path.startsWith(at('root/app/escape/')))).toBe(false)
  })

  it('hides dot entries on request and truncates at limit', () => {
    expect(list({path: at('root/app'), include_hidden: false}).entries.map((e) => e.name)).toEqual(['conf', 'escape', 'five.txt'])
    expect(list({path: at('root/app'), recursive: true, limit: 3})).toMatchObject({truncated: true, entries: expect.any(Array)})
    expect(list({path: at('root/app'), recursive: true, limit: 3}).entries).toHaveLength(3)
    expect(list({path: at('root/app'), limit: 4}).truncated).toBe(false)
  })

  it('leaves denied entries out of a listing', () => {
    writeFileSync(at('root/secret/key'), 'k')
    const names = list({path: at('root'), recursive: true}).entries.map((e) => e.path)
    expect(names).toContain(at('root/app'))
    expect(names.filter((p) => p.startsWith(at('root/secret')))).toEqual([])
    expect(list({path: at('state'), recursive: true}).entries.map((e) => e.name)).toEqual([])
  })

  it('answers 400 for a file, 404 when missing, 403 outside the roots or through an escaping symlink', () => {
    expect(failure(() => list({path: at('root/app/five.txt')}))).toMatchObject({code: 'VALIDATION_FAILED', hint: expect.stringContaining('file_read')})
    expect(failure(() => list({path: at('root/none')})).code).toBe('NOT_FOUND')
    expect(failure(() => list({path: at('outside')})).code).toBe('PATH_DENIED')
    expect(failure(() => list({path: at('root/app/escape')})).code).toBe('PATH_DENIED')
    expect(failure(() => list({path: at('root/secret')})).code).toBe('PATH_DENIED')
  })

  it('refuses a directory swapped for a symlink between the check and the open', () => {
    beforeOpen = () => {
      renameSync(at('root/app/conf'), at('root/app/conf-old'))
      symlinkSync(at('outside'), at('root/app/conf'))
    }
    expect(failure(() => list({path: at('root/app/conf')}))).toMatchObject({code: 'PATH_DENIED', details: {reason: 'changed_during_check'}})
  })
})
