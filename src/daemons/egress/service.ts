import {createHash} from 'node:crypto'
import {existsSync, mkdirSync} from 'node:fs'
import {dirname} from 'node:path'
import type {z} from 'zod'
import type {Ledger} from '../../lib/ledger/ledger.js'
import type {OsmodaPaths} from '../../lib/paths.js'
import {writeFileAtomic} from '../../lib/secure-file.js'
import {allowlistFile, readAllowlist, type Allowlist, type AllowlistPutInput, type EgressHealth} from './api.js'
import type {EgressConfig} from './config.js'
import type {EgressProxy} from './proxy.js'
import type {Revocations} from './revocations.js'

/** Dependencies of egress's route service. */
export interface EgressServiceDeps {
  paths: Pick<OsmodaPaths, 'daemonStateDir' | 'configFile'>
  ledger: Ledger
  config: () => EgressConfig
  revocations: Revocations
  proxy: () => EgressProxy
  listen: () => {address: string; port: number | null; proxy_socket: string}
  version: string
  startedAt: number
}

/**
 * The operator's allowlist and egress's health. The allowlist is `egress/allowlist.json` when the
 * operator set one, else the config (written by Nix); it is re-read on reload and after a PUT, so
 * a change applies to the next CONNECT.
 */
export function createEgressService(deps: EgressServiceDeps) {
  const fromConfig = (): Allowlist => {
    const c = deps.config()
    return {default_allow: c.defaultAllow, allowed_ports: c.allowedPorts, allow_private_cidrs: c.allowPrivateCidrs, source: 'nix'}
  }
  // A hand-edited file that does not validate is reported in /health, never half-applied.
  let fileProblem: string | null = null
  const load = (): Allowlist => {
    const found = readAllowlist(deps.paths)
    fileProblem = found.source !== 'state' && existsSync(allowlistFile(deps.paths)) ? `${allowlistFile(deps.paths)} is not a valid allowlist; the config's allowlist applies` : null
    return found.source === 'state' ? found : fromConfig()
  }
  let current = load()

  return {
    allowlist: (): Allowlist => current,
    reload(): void {
      current = load()
    },
    setAllowlist(input: z.output<typeof AllowlistPutInput>, actor: string): Allowlist {
      const next = {
        default_allow: [...new Set(input.default_allow)],
        allowed_ports: [...new Set(input.allowed_ports ?? current.allowed_ports)],
        allow_private_cidrs: [...new Set(input.allow_private_cidrs ?? current.allow_private_cidrs)],
      }
      const text = `${JSON.stringify(next, null, 2)}\n`
      const file = allowlistFile(deps.paths)
      mkdirSync(dirname(file), {recursive: true, mode: 0o700})
      writeFileAtomic(file, text, 0o644)
      current = {...next, source: 'state'}
      fileProblem = null
      deps.ledger.append({type: 'egress.allowlist_changed', actor, payload: {sha256: createHash('sha256').update(text).digest('hex')}})
      return current
    },
    health(): z.input<typeof EgressHealth> {
      const fresh = deps.revocations.fresh()
      const problems = [
        ...(fresh ? [] : ['revocation list from agentd is stale: capability tokens are refused until it refreshes']),
        ...(fileProblem ? [fileProblem] : []),
      ]
      return {
        status: problems.length ? 'degraded' : 'ok',
        daemon: 'egress',
        version: deps.version,
        pid: process.pid,
        uptime_secs: Math.floor((Date.now() - deps.startedAt) / 1000),
        ...(problems.length ? {problems} : {}),
        ...deps.proxy().stats(),
        revocations_fresh: fresh,
        listen: deps.listen(),
      }
    },
  }
}

/** egress's route service. */
export type EgressService = ReturnType<typeof createEgressService>
