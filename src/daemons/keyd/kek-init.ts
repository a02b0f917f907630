import {randomBytes} from 'node:crypto'
import {mkdirSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import type {OsmodaPaths} from '../../lib/paths.js'
import {createFileExclusive} from '../../lib/secure-file.js'

/**
 * `osmoda init`'s part for keyd: creates `<config>/secrets/keyd.kek` (32 random bytes, 0600) when
 * it is missing AND no wallet key file exists. With wallets on disk a missing KEK must be restored,
 * never replaced: a new one would make every key unreadable. Returns what it created.
 */
export function ensureKeydKek(paths: OsmodaPaths): string[] {
  let keyFiles: string[] = []
  try {
    keyFiles = readdirSync(join(paths.daemonStateDir('keyd'), 'keys')).filter((f) => f.endsWith('.key'))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  if (keyFiles.length > 0) return []
  const dir = join(paths.configDir, 'secrets')
  mkdirSync(dir, {recursive: true, mode: 0o700})
  const key = randomBytes(32)
  try {
    return createFileExclusive(join(dir, 'keyd.kek'), key, 0o600) ? ['secrets/keyd.kek'] : []
  } finally {
    key.fill(0)
  }
}
