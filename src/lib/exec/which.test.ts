import {chmod, mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {which} from './which.js'

describe('which', () => {
  let dir = ''
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'osmoda-which-'))
  })
  afterEach(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  it('finds a binary on the process PATH', async () => {
    expect(await which('sh')).toMatch(/\/sh$/)
  })

  it('returns null for a missing binary', async () => {
    expect(await which('osmoda-no-such-binary-xyz')).toBeNull()
  })

  it('takes the first executable match and skips non-executables, directories and relative entries', async () => {
    // Given three PATH entries: a relative one, one with a non-executable file and a directory, one with the tool
    const first = join(dir, 'a')
    const second = join(dir, 'b')
    await mkdir(first)
    await mkdir(second)
    await writeFile(join(first, 'tool'), '#!/bin/sh\n', {mode: 0o644})
    await mkdir(join(first, 'tool2'))
    await writeFile(join(second, 'tool'), '#!/bin/sh\n')
    await chmod(join(second, 'tool'), 0o755)
    // When looking it up
    // Then only the executable file counts
    expect(await which('tool', {path: `relative/bin:${first}:${second}`})).toBe(join(second, 'tool'))
    expect(await which('tool2', {path: `${first}:${second}`})).toBeNull()
  })

  it('checks a name with a slash as given', async () => {
    expect(await which('/bin/sh')).toBe('/bin/sh')
    expect(await which('/nonexistent/sh')).toBeNull()
    expect(await which('')).toBeNull()
  })
})
