import {mkdirSync} from 'node:fs'
import {join} from 'node:path'
import type {OsmodaPaths} from '../../lib/paths.js'
import {ensureCredstoreKey} from './credentials.js'

/**
 * `osmoda init`'s part for the gateway: `<config>/secrets/gateway.key` (32 random bytes, 0600) when
 * missing and no credentials.json.enc exists. With ciphertext on disk a missing key must be
 * restored, never replaced. The gateway itself cannot write there in production (ProtectSystem).
 */
export function ensureGatewayKey(paths: OsmodaPaths): string[] {
  const dir = join(paths.configDir, 'secrets')
  mkdirSync(dir, {recursive: true, mode: 0o700})
  return ensureCredstoreKey(join(dir, 'gateway.key'), join(paths.daemonStateDir('gateway'), 'credentials.json.enc')) ? ['secrets/gateway.key'] : []
}
