import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {applyEdits, restoreEdits, type EditOriginal} from './edits.js'

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, {recursive: true, force: true})))

describe('switch edits', () => {
  it('writes the edits, keeps each original before writing, and restores content, mode and absence', () => {
    // Given an existing file (mode 0640) and a path that does not exist yet
    const dir = mkdtempSync(join(tmpdir(), 'osmoda-edits-'))
    dirs.push(dir)
    const existing = join(dir, 'configuration.nix')
    const created = join(dir, 'extra.nix')
    writeFileSync(existing, '{ old }\n', {mode: 0o640})
    const kept: EditOriginal[][] = []
    // When both are edited (the existing one twice)
    const originals = applyEdits(
      [
        {path: existing, content: '{ first }'},
        {path: created, content: '{ new }'},
        {path: existing, content: '{ second }'},
      ],
      (o) => kept.push(structuredClone(o)),
    )
    // Then the last content wins, the mode is kept, and each original was handed over before its first write
    expect(readFileSync(existing, 'utf8')).toBe('{ second }')
    expect(statSync(existing).mode & 0o777).toBe(0o640)
    expect(kept.map((o) => o.map((e) => e.path))).toEqual([[existing], [existing, created]])
    expect(originals).toEqual([
      {path: existing, content: '{ old }\n', mode: 0o640},
      {path: created, content: null, mode: null},
    ])
    // When they are restored
    restoreEdits(originals)
    // Then the file is as before and the created one is gone
    expect(readFileSync(existing, 'utf8')).toBe('{ old }\n')
    expect(statSync(existing).mode & 0o777).toBe(0o640)
    expect(existsSync(created)).toBe(false)
  })
})
