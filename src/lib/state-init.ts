import {chmodSync, existsSync, mkdirSync} from 'node:fs'
import {ensureKeydKek} from '../daemons/keyd/kek-init.js'
import {ensureGatewayKey} from '../daemons/gateway/key-init.js'
import {ensureIdentity} from './identity.js'
import type {OsmodaPaths} from './paths.js'
import {ensureToken} from './tokens.js'

/** What `osmoda init` did. */
export interface InitReport {
  run_dir: string
  state_dir: string
  config_dir: string
  created: string[]
  instance_id: string
}

/**
 * Creates the directories with their modes, the operator and agent tokens, the node identity and
 * keyd's key-encryption key (only while no wallet exists) and the gateway's credstore key (only
 * while no encrypted credentials exist).
 * Idempotent: existing keys and tokens are never overwritten, only missing pieces are added and
 * directory modes repaired.
 */
export function initState(paths: OsmodaPaths): InitReport {
  const created: string[] = []
  const production = paths.mode === 'production'
  // Production dirs are shared by several service users (SPEC §6); dev dirs belong to one user.
  const dirs: [string, number, string][] = [
    [paths.runDir, production ? 0o771 : 0o700, 'run'],
    [paths.stateDir, production ? 0o771 : 0o700, 'state'],
    [paths.configDir, production ? 0o755 : 0o700, 'config'],
    [paths.tokensDir, 0o711, 'tokens'],
    [paths.identityDir, 0o711, 'identity'],
  ]
  for (const [dir, mode, label] of dirs) {
    if (!existsSync(dir)) created.push(`${label} dir ${dir}`)
    mkdirSync(dir, {recursive: true, mode})
    chmodSync(dir, mode)
  }
  for (const role of ['operator', 'agent'] as const) {
    if (ensureToken(paths, role).created) created.push(`tokens/${role}`)
  }
  const {created: keys, identity} = ensureIdentity(paths)
  created.push(...keys)
  created.push(...ensureKeydKek(paths))
  created.push(...ensureGatewayKey(paths))
  return {run_dir: paths.runDir, state_dir: paths.stateDir, config_dir: paths.configDir, created, instance_id: identity.instance_id}
}
