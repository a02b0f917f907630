import {spawnSync} from 'node:child_process'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ROOT} from './helpers/env.js'

const hasNix = spawnSync('nix-instantiate', ['--version']).status === 0
// CI installs nix-bin (.ci/run); elsewhere a missing tool skips with the reason in the test name.
const reason = hasNix ? '' : ' (skipped: nix-instantiate is not installed; apt-get install nix-bin)'
if (!hasNix && process.env.CI === 'true') throw new Error('nix-instantiate is required under CI=true (apt-get install nix-bin)')

describe(`Nix files parse${reason}`, () => {
  it.skipIf(!hasNix).each(['flake.nix', 'nix/module.nix', 'nix/package.nix'])('%s', (file) => {
    const res = spawnSync('nix-instantiate', ['--parse', join(ROOT, file)], {encoding: 'utf8'})
    expect(res.stderr).toBe('')
    expect(res.status).toBe(0)
  })
})
