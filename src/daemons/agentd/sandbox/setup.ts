import type {KeyObject} from 'node:crypto'
import {join} from 'node:path'
import type {Db} from '../../../lib/db/open.js'
import type {Ledger} from '../../../lib/ledger/ledger.js'
import type {Logger} from '../../../lib/log.js'
import type {OsmodaPaths} from '../../../lib/paths.js'
import type {AgentdConfig} from '../config.js'
import {expandStatePath} from '../hands-config.js'
import {findSystemEntries, nodeBinary, packageDir, resolveSandboxUser, systemdIsPid1} from './host-env.js'
import {createSandboxProbe} from './probe.js'
import {createRevocationCheck} from './revocations.js'
import {createSandboxService} from './service.js'

/**
 * Builds agentd's sandbox from its config and the host: the user it runs as (see
 * resolveSandboxUser for the dev fallbacks), the system paths to mount, the cached probe that
 * GET /health reports and the service behind POST /sandbox/exec.
 */
export function setupSandbox(deps: {config: () => AgentdConfig; paths: OsmodaPaths; db: Db; ledger: Ledger; verifyKey: KeyObject; log: Logger}) {
  const initial = deps.config()
  const resolved = resolveSandboxUser(initial.sandbox.user)
  const system = findSystemEntries()
  const systemd = systemdIsPid1()
  deps.log.info('sandbox', {user: resolved.description, mode: resolved.mode, limits: systemd ? 'systemd scope' : 'not enforced (systemd is not PID 1)'})
  const probe = createSandboxProbe(() => ({user: resolved.user, userDescription: resolved.description, system, enabled: deps.config().sandbox.enable}))
  const service = createSandboxService({
    ledger: deps.ledger,
    probe,
    settings: () => {
      const config = deps.config()
      const deny = [...config.files.denyPaths, ...config.exec.maskedPaths].map((p) => expandStatePath(p, deps.paths))
      return {...config.sandbox, denyPaths: [...new Set(deny)]}
    },
    user: resolved.user,
    system,
    systemd,
    verifyKey: deps.verifyKey,
    isRevoked: createRevocationCheck(deps.db),
    egressSocket: join(deps.paths.runDir, 'egress-proxy.sock'),
    helper: {node: nodeBinary(), packageDir: packageDir()},
  })
  return {probe, service}
}
