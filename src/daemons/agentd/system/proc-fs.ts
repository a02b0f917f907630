import {readFile, readdir, readlink} from 'node:fs/promises'

/** How many /proc reads run at once: enough to be quick, few enough not to flood libuv's pool. */
export const PROC_CONCURRENCY = 32

// A process can exit, or change credentials, between readdir and read: these are expected races.
const VANISHED = new Set(['ENOENT', 'ESRCH', 'EACCES', 'EPERM', 'EINVAL'])

function isVanished(error: unknown): boolean {
  return VANISHED.has((error as NodeJS.ErrnoException).code ?? '')
}

/** A /proc file as text, or null when it vanished or is not ours to read. */
export async function readProcText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if (isVanished(error)) return null
    throw error
  }
}

/** A symlink target under /proc, or null when it vanished or is not ours to read. */
export async function readProcLink(path: string): Promise<string | null> {
  try {
    return await readlink(path)
  } catch (error) {
    if (isVanished(error)) return null
    throw error
  }
}

/** The entries of a /proc directory, or [] when it vanished or is not ours to read. */
export async function readProcDir(path: string): Promise<string[]> {
  try {
    return await readdir(path)
  } catch (error) {
    if (isVanished(error)) return []
    throw error
  }
}

/** The pids currently listed in `procRoot`. */
export async function listPids(procRoot = '/proc'): Promise<number[]> {
  const entries = await readdir(procRoot)
  return entries.filter((name) => /^\d+$/.test(name)).map(Number)
}

/** Maps `items` through `fn` with at most `limit` calls in flight, keeping order. */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await fn(items[index] as T)
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  return results
}

/** Milliseconds since the epoch as RFC 3339 UTC with milliseconds, osmoda's timestamp format. */
export function isoMs(epochMs: number): string {
  return new Date(Math.round(epochMs)).toISOString()
}
