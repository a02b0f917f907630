import {describe, expect, it} from 'vitest'
import type {Target} from './api.js'
import {nodeTarget, quorumRequired} from './fleet-machine.js'

const commands: Target = {type: 'commands', apply: [{command: '/bin/true', args: []}], revert: [{command: '/bin/true', args: []}]}

describe('quorum', () => {
  it.each([
    [1, 51, 1],
    [2, 51, 2],
    [3, 51, 2],
    [3, 100, 3],
    [4, 50, 2],
    [5, 1, 1],
    [65, 51, 34],
  ])('%i participants at %i%% need %i approvals', (n, percent, required) => {
    expect(quorumRequired(n, percent)).toBe(required)
  })

  it('replaces {hostname} in a flake ref per node and leaves commands alone', () => {
    expect(nodeTarget({type: 'nixos', source: {flake: 'github:acme/infra#{hostname}'}}, 'web1')).toEqual({type: 'nixos', source: {flake: 'github:acme/infra#web1'}})
    expect(nodeTarget(commands as never, 'web1')).toEqual(commands)
  })
})
