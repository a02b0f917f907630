import {spawnSync} from 'node:child_process'
import {readFileSync, readdirSync} from 'node:fs'
import {join, relative} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ROOT} from './helpers/env.js'
import {requireTool} from './helpers/system-tool.js'

const nix = requireTool('nix-instantiate', 'apt-get install nix-bin')

function nixFiles(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return nixFiles(path)
    return entry.name.endsWith('.nix') ? [relative(ROOT, path)] : []
  })
}

const FILES = ['flake.nix', ...nixFiles(join(ROOT, 'nix')), ...nixFiles(join(ROOT, 'test/fixtures/nix'))]

describe.skipIf(nix.skip)('every Nix file parses', () => {
  it('finds the module, package, option files and the VM tests', () => {
    expect(FILES).toEqual(expect.arrayContaining(['flake.nix', 'nix/module.nix', 'nix/package.nix', 'nix/settings.nix', 'nix/options/default.nix']))
  })

  it.each(FILES)('%s', (file) => {
    // Given a Nix file of the repository
    // When nix-instantiate parses it
    const res = spawnSync('nix-instantiate', ['--parse', join(ROOT, file)], {encoding: 'utf8'})
    // Then it is syntactically valid
    expect(res.stderr).toBe('')
    expect(res.status).toBe(0)
  })
})

describe.skipIf(nix.skip)('nix/npm-lock.nix pins every dependency for an offline build', () => {
  it('gives each registry package of package-lock.json a registry tarball URL and keeps its integrity', () => {
    // Given the repository's lock file (written without `resolved` URLs)
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {packages: Record<string, {version?: string; integrity?: string; resolved?: string; link?: boolean}>}
    // When nix/npm-lock.nix fills it in
    const expr = `import ${join(ROOT, 'nix/npm-lock.nix')} (builtins.fromJSON (builtins.readFile ${join(ROOT, 'package-lock.json')}))`
    const res = spawnSync('nix-instantiate', ['--eval', '--json', '--strict', '--option', 'substituters', '', '-E', expr], {encoding: 'utf8', maxBuffer: 64 * 1024 * 1024})
    expect(res.stderr).toBe('')
    const filled = JSON.parse(res.stdout) as typeof lock
    // Then every package (not the root, not a link) has npm's tarball URL for its name and version,
    // and the sha512 fetchurl will check is the lock's own
    const wrong = Object.entries(lock.packages)
      .filter(([key, entry]) => key !== '' && !entry.link)
      .flatMap(([key, entry]) => {
        const name = key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length)
        const want = `https://registry.npmjs.org/${name}/-/${name.split('/').at(-1)}-${entry.version}.tgz`
        const got = filled.packages[key]!
        return got.resolved === (entry.resolved ?? want) && got.integrity === entry.integrity && /^sha512-/.test(got.integrity ?? '') ? [] : [{key, got: got.resolved, want}]
      })
    expect(wrong).toEqual([])
    expect(Object.keys(filled.packages)).toHaveLength(Object.keys(lock.packages).length)
  })
})
