import {mkdir, mkdtemp, rm, symlink} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {parseProfileListing, previousGeneration, readGenerationState} from './generations.js'

describe('parseProfileListing', () => {
  it('finds the generations, with gaps, and the current one', () => {
    // Given a profile dir where generations 3 and 5..6 were deleted
    const entries = ['system', 'system-1-link', 'system-2-link', 'system-4-link', 'system-7-link', 'per-user', 'default', 'default-9-link', 'system-x-link', 'system-0-link']
    // When it is parsed with `system` → system-7-link
    const listing = parseProfileListing(entries, 'system', 'system-7-link')
    // Then only this profile's well-formed links count, in order, and 7 is current
    expect(listing).toEqual({numbers: [1, 2, 4, 7], current: 7})
  })

  it('accepts an absolute link target', () => {
    expect(parseProfileListing(['system-1-link', 'system-2-link'], 'system', '/nix/var/nix/profiles/system-2-link').current).toBe(2)
  })

  it('has no current generation when the link points elsewhere or at a missing generation', () => {
    expect(parseProfileListing(['system-1-link'], 'system', '/nix/store/abc-nixos-system').current).toBeNull()
    expect(parseProfileListing(['system-1-link'], 'system', 'system-2-link').current).toBeNull()
    expect(parseProfileListing(['system-1-link'], 'system', null).current).toBeNull()
  })

  it('escapes the profile name', () => {
    expect(parseProfileListing(['a.b-1-link', 'axb-2-link'], 'a.b', 'a.b-1-link').numbers).toEqual([1])
  })
})

describe('previousGeneration', () => {
  it.each([
    {name: 'skips a gap: 7 → 4, not 6', numbers: [1, 2, 4, 7], current: 7, want: 4},
    {name: 'the one just below', numbers: [10, 11, 12], current: 12, want: 11},
    {name: 'current is not the newest', numbers: [1, 4, 7], current: 4, want: 1},
    {name: 'nothing older', numbers: [7, 9], current: 7, want: null},
    {name: 'only one generation', numbers: [3], current: 3, want: null},
    {name: 'no current', numbers: [1, 2], current: null, want: null},
  ])('$name', ({numbers, current, want}) => {
    expect(previousGeneration({numbers, current})).toBe(want)
  })
})

describe('readGenerationState', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'osmoda-profile-'))
  })
  afterEach(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  it('reads a fake profile with gaps: current, previous and booted', async () => {
    // Given store paths and generation links 1, 2, 5 and 8, `system` → 8, booted from 2
    for (const n of [1, 2, 5, 8]) {
      await mkdir(join(dir, 'store', `gen${n}`), {recursive: true})
      await symlink(join(dir, 'store', `gen${n}`), join(dir, `system-${n}-link`))
    }
    await symlink('system-8-link', join(dir, 'system'))
    await symlink(join(dir, 'store', 'gen2'), join(dir, 'booted-system'))
    // When the state is read
    const state = await readGenerationState(join(dir, 'system'), join(dir, 'booted-system'))
    // Then the rollback target is 5 (the newest older one), and the booted one is found by store path
    expect(state).toMatchObject({current: 8, previous: 5, booted: 2})
    expect(state?.listing.numbers).toEqual([1, 2, 5, 8])
  })

  it('is null without a profile link (no Nix system profile)', async () => {
    expect(await readGenerationState(join(dir, 'system'), join(dir, 'booted'))).toBeNull()
  })
})
