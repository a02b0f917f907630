import {createHash} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {checkArchive, memberPathProblem} from './restore-check.js'
import {parseTar, type TarInput, buildTar} from './tar.js'

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const LEDGER = Buffer.from('pretend ledger bytes')
const MEMORY = Buffer.from('---\nid: mem_1\n---\nhello\n')

/** A well-formed archive of two files, with `change` applied to its members before the manifest is added. */
function archive(options: {members?: (m: TarInput[]) => TarInput[]; manifestFiles?: (f: {path: string; sha256: string; size_bytes: number}[]) => unknown[]} = {}) {
  const base: TarInput[] = [
    {name: 'ledger.db', type: 'file', mode: 0o600, data: LEDGER},
    {name: 'memory', type: 'dir', mode: 0o750},
    {name: 'memory/mem_1.md', type: 'file', mode: 0o640, data: MEMORY},
  ]
  const files = [
    {path: 'ledger.db', sha256: sha(LEDGER), size_bytes: LEDGER.length},
    {path: 'memory/mem_1.md', sha256: sha(MEMORY), size_bytes: MEMORY.length},
  ]
  const manifest = {
    format: 'osmoda.backup.v1',
    id: 'bak_01JDQZ9V7C4Y3M2N1P0Q9R8S7T',
    created_at: '2026-11-26T00:00:00.000Z',
    osmoda_version: '0.1.0',
    note: null,
    files: options.manifestFiles ? options.manifestFiles(files) : files,
    ledger: {size: 0, head_hash: null, latest_checkpoint_size: null},
  }
  const members = (options.members ?? ((m) => m))(base)
  return parseTar(buildTar([...members, {name: 'manifest.json', type: 'file', mode: 0o600, data: Buffer.from(JSON.stringify(manifest))}]))
}

const refused = (fn: () => unknown, pattern: RegExp) => expect(fn).toThrow(expect.objectContaining({code: 'VERIFICATION_FAILED', message: expect.stringMatching(pattern)}))

describe('checkArchive', () => {
  it('accepts a well-formed archive', () => {
    expect(checkArchive(archive()).manifest.files).toHaveLength(2)
  })

  it('refuses one flipped byte in a member (manifest SHA-256)', () => {
    const flipped = Buffer.from(MEMORY)
    flipped[5] = (flipped[5] as number) ^ 0x20
    refused(() => checkArchive(archive({members: (m) => m.map((x) => (x.name === 'memory/mem_1.md' ? {...x, data: flipped} : x))})), /memory\/mem_1\.md: SHA-256 differs/)
  })

  it('refuses a member with a different size, a missing member and an extra member', () => {
    refused(() => checkArchive(archive({members: (m) => m.map((x) => (x.name === 'ledger.db' ? {...x, data: Buffer.from('short')} : x))})), /ledger\.db: 5 bytes/)
    refused(() => checkArchive(archive({members: (m) => m.filter((x) => x.name !== 'memory/mem_1.md')})), /listed in the manifest but missing/)
    refused(() => checkArchive(archive({members: (m) => [...m, {name: 'agentd/extra.json', type: 'file', mode: 0o600, data: Buffer.from('{}')}]})), /agentd\/extra\.json: not listed/)
  })

  it.each([
    ['a ".." member', '../../etc/cron.d/evil'],
    ['a ".." segment inside', 'memory/../../outside'],
    ['an absolute member', '/etc/cron.d/evil'],
    ['a tokens/ member', 'tokens/operator'],
    ['an identity/ member', 'identity/ed25519.key'],
  ])('refuses the whole archive for %s', (_what, name) => {
    const data = Buffer.from('* * * * * root id\n')
    refused(() => checkArchive(archive({members: (m) => [...m, {name, type: 'file', mode: 0o644, data}], manifestFiles: (f) => [...f, {path: name, sha256: sha(data), size_bytes: data.length}]})), /unsafe members/)
  })

  it('refuses links and devices', () => {
    refused(() => checkArchive(archive({members: (m) => [...m, {name: 'memory/link', type: 'file', mode: 0o777, typeflag: '2', linkname: '/etc/shadow'}]})), /not a regular file or directory \(other:2\)/)
    refused(() => checkArchive(archive({members: (m) => [...m, {name: 'memory/hard', type: 'file', mode: 0o644, typeflag: '1', linkname: 'ledger.db'}]})), /other:1/)
    refused(() => checkArchive(archive({members: (m) => [...m, {name: 'dev', type: 'file', mode: 0o644, typeflag: '3'}]})), /other:3/)
  })

  it('refuses an archive without a valid manifest', () => {
    refused(() => checkArchive(parseTar(buildTar([{name: 'ledger.db', type: 'file', mode: 0o600, data: LEDGER}]))), /no manifest\.json/)
    refused(() => checkArchive(parseTar(buildTar([{name: 'manifest.json', type: 'file', mode: 0o600, data: Buffer.from('{"format":"zip"}')}]))), /not an osmoda backup manifest/)
  })

  it('names the path problems', () => {
    expect(memberPathProblem('memory/ops/x.md')).toBeNull()
    expect(memberPathProblem('/abs')).toBe('absolute path')
    expect(memberPathProblem('a/../b')).toBe('".." segment')
    expect(memberPathProblem('a//b')).toBe('empty or "." segment')
    expect(memberPathProblem('./a')).toBe('empty or "." segment')
  })
})
