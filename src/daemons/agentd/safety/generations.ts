import {readdir, readlink, realpath} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'

/** NixOS's system profile: `system` links to `system-<N>-link`, which links into the store. */
export const DEFAULT_SYSTEM_PROFILE = '/nix/var/nix/profiles/system'

/** The generation numbers of a profile and which one is current. */
export interface ProfileListing {
  /** Every generation number present, ascending (gaps where generations were deleted). */
  numbers: number[]
  /** The generation the profile link points to, or null when it points elsewhere. */
  current: number | null
}

/** current, the one a rollback would switch to, and the booted one. */
export interface GenerationState {
  current: number | null
  previous: number | null
  booted: number | null
}

/**
 * The generations of profile `name` (e.g. `system`) from the entries of its directory and the
 * target of the profile link (`system-42-link`, relative or absolute).
 */
export function parseProfileListing(entries: readonly string[], name: string, profileTarget: string | null): ProfileListing {
  const pattern = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-([1-9][0-9]{0,9})-link$`)
  const numbers = [...new Set(entries.map((e) => pattern.exec(e)?.[1]).filter((n): n is string => n !== undefined).map(Number))].sort((a, b) => a - b)
  const target = profileTarget === null ? null : pattern.exec(basename(profileTarget))
  const current = target ? Number(target[1]) : null
  return {numbers, current: current !== null && numbers.includes(current) ? current : null}
}

/**
 * The newest existing generation older than `current`: an explicit number, never `current - 1`,
 * because deleted generations leave gaps. Null when there is none (or no current).
 */
export function previousGeneration(listing: ProfileListing): number | null {
  if (listing.current === null) return null
  const older = listing.numbers.filter((n) => n < (listing.current as number))
  return older.length ? (older[older.length - 1] as number) : null
}

/**
 * Reads a profile's generations from disk; null when the profile link does not exist (no Nix
 * system profile on this host). `booted` is the generation whose store path `bootedLink` resolves to.
 */
export async function readGenerationState(profile = DEFAULT_SYSTEM_PROFILE, bootedLink = '/run/booted-system'): Promise<(GenerationState & {listing: ProfileListing}) | null> {
  const target = await readlink(profile).catch(() => null)
  if (target === null) return null
  const dir = dirname(profile)
  const name = basename(profile)
  const listing = parseProfileListing(await readdir(dir).catch(() => []), name, target)
  const bootedPath = await realpath(bootedLink).catch(() => null)
  let booted: number | null = null
  if (bootedPath !== null) {
    for (const n of [...listing.numbers].reverse()) {
      if ((await realpath(join(dir, `${name}-${n}-link`)).catch(() => null)) === bootedPath) {
        booted = n
        break
      }
    }
  }
  return {current: listing.current, previous: previousGeneration(listing), booted, listing}
}
