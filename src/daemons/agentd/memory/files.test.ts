import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {listMemoryFiles, parseMemory, readMemoryFile, renderMemory, writeMemoryFile, type MemoryRecord} from './files.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true})
})

const MEMORY: MemoryRecord = {
  id: 'mem_01JDQ7Z8X9Y0ABCDEFGHJKMNPQ',
  ts: '2026-11-25T21:30:00.123Z',
  category: 'incident',
  subcategory: null,
  source: 'agent:ops',
  agent_id: 'ops',
  tags: ['nginx', 'disk "full"'],
  summary: 'nginx failed: disk full on /var\n## Detail\nstill summary',
  detail: 'Removed old logs.\n\n## Detail\nkept as detail',
}

describe('memory files', () => {
  it('round-trips a memory through its markdown, including a summary line that looks like the heading', () => {
    // Given a memory / When rendered and parsed / Then every field survives
    expect(parseMemory(renderMemory(MEMORY))).toEqual(MEMORY)
  })

  it('writes <category>/<YYYY-MM>/<id>.md atomically with 0640 files and 0750 dirs', () => {
    const root = mkdtempSync(join(tmpdir(), 'osmoda-mem-'))
    dirs.push(root)
    const rel = writeMemoryFile(join(root, 'memory'), MEMORY)
    expect(rel).toBe('incident/2026-11/mem_01JDQ7Z8X9Y0ABCDEFGHJKMNPQ.md')
    expect(statSync(join(root, 'memory', rel)).mode & 0o777).toBe(0o640)
    expect(statSync(join(root, 'memory', 'incident', '2026-11')).mode & 0o777).toBe(0o750)
    expect(statSync(join(root, 'memory')).mode & 0o777).toBe(0o750)
    expect(readFileSync(join(root, 'memory', rel), 'utf8')).toMatch(/^---\nid: mem_01JDQ7Z8X9Y0ABCDEFGHJKMNPQ\nts: "2026-11-25T21:30:00.123Z"\n/)
    expect(listMemoryFiles(join(root, 'memory')).map((f) => f.rel)).toEqual([rel])
    expect(readMemoryFile(join(root, 'memory'), rel)).toEqual(MEMORY)
  })

  it('reads hand-written YAML: plain scalars, block and flow lists, comments, missing id', () => {
    const text = [
      '---',
      '# edited by hand',
      'ts: 2026-01-02T03:04:05+01:00',
      'category: fix',
      "source: 'operator'",
      'tags:',
      '  - postgres',
      '  - vacuum',
      'subcategory:',
      '---',
      'Vacuum fixed the bloat.',
      '',
      '## Detail',
      '',
      'Ran VACUUM FULL.',
    ].join('\n')
    const memory = parseMemory(text, 'mem_01JDQ7Z8X9Y0ABCDEFGHJKMNPR')
    expect(memory).toMatchObject({id: 'mem_01JDQ7Z8X9Y0ABCDEFGHJKMNPR', ts: '2026-01-02T02:04:05.000Z', category: 'fix', source: 'operator', tags: ['postgres', 'vacuum'], subcategory: null, summary: 'Vacuum fixed the bloat.', detail: 'Ran VACUUM FULL.'})
    expect(parseMemory(text.replace('tags:\n  - postgres\n  - vacuum', 'tags: [a, b]'), 'mem_01JDQ7Z8X9Y0ABCDEFGHJKMNPR').tags).toEqual(['a', 'b'])
  })

  it.each([
    ['no front matter', 'just text'],
    ['bad category', '---\nid: mem_01JDQ7Z8X9Y0ABCDEFGHJKMNPQ\nts: "2026-11-25T21:30:00.123Z"\ncategory: ../etc\n---\nx'],
    ['bad id', '---\nid: mem_x\nts: "2026-11-25T21:30:00.123Z"\ncategory: a\n---\nx'],
    ['bad ts', '---\nid: mem_01JDQ7Z8X9Y0ABCDEFGHJKMNPQ\nts: yesterday\ncategory: a\n---\nx'],
    ['empty summary', '---\nid: mem_01JDQ7Z8X9Y0ABCDEFGHJKMNPQ\nts: "2026-11-25T21:30:00.123Z"\ncategory: a\n---\n\n## Detail\nonly detail'],
    ['garbage line', '---\nid mem\n---\nx'],
  ])('refuses a file with %s', (_name, text) => {
    expect(() => parseMemory(text)).toThrow()
  })

  it('lists only well-named files', () => {
    const root = mkdtempSync(join(tmpdir(), 'osmoda-mem-'))
    dirs.push(root)
    writeMemoryFile(root, MEMORY)
    writeFileSync(join(root, 'incident', '2026-11', 'notes.md'), 'x')
    expect(listMemoryFiles(root)).toHaveLength(1)
  })
})
