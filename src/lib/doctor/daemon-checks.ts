import {statSync} from 'node:fs'
import {commonApi} from '../daemon/common-api.js'
import {OsmodaError} from '../errors.js'
import type {OsmodaPaths} from '../paths.js'
import {createClient} from '../rpc/client.js'
import {DEFAULT_SOCKET_GROUP, groupId} from '../rpc/socket-access.js'
import {resolveToken} from '../tokens.js'
import {fail, octal, ok, warn, type DoctorCheck} from './check.js'

/**
 * The mode every daemon leaves its socket with (SPEC §1.1, src/lib/rpc/socket-access.ts): 0660 with
 * group `osmoda` where that group exists, owner-only 0600 where it does not (dev machines).
 */
export function expectedSocketMode(groupFile?: string): number {
  return groupId(DEFAULT_SOCKET_GROUP, groupFile) === null ? 0o600 : 0o660
}

const HEALTH_TIMEOUT_MS = 3000

/**
 * Each daemon's socket is present and answers GET /health with the caller's token: a missing
 * socket (not started), a stale one (process gone), a rejected token and a degraded daemon each
 * get their own detail and fix.
 */
export async function checkDaemons(paths: OsmodaPaths, daemons: readonly string[]): Promise<DoctorCheck[]> {
  let token: string | null = null
  let tokenProblem = ''
  try {
    token = resolveToken(paths)
  } catch (error) {
    tokenProblem = (error as Error).message
  }
  return Promise.all(daemons.map((daemon) => checkDaemon(paths, daemon, token, tokenProblem)))
}

async function checkDaemon(paths: OsmodaPaths, daemon: string, token: string | null, tokenProblem: string): Promise<DoctorCheck> {
  const name = `daemon:${daemon}`
  const socket = paths.socket(daemon)
  const start = `start it: \`osmoda up\` (or \`osmoda daemon ${daemon}\`; systemd: systemctl start osmoda-${daemon})`
  let socketMode: number
  try {
    const info = statSync(socket)
    if (!info.isSocket()) return fail(name, `${socket} is not a socket`, `remove ${socket}, then ${start}`)
    socketMode = info.mode & 0o777
  } catch {
    return fail(name, `no socket at ${socket}: osmoda-${daemon} is not running`, start)
  }
  if (token === null) return fail(name, `cannot ask ${daemon}: ${tokenProblem}`, 'run `osmoda init`, or set OSMODA_TOKEN / OSMODA_TOKEN_FILE')
  const client = createClient(daemon, commonApi, {socketPath: socket, token})
  try {
    const health = await client.health(undefined, {timeoutMs: HEALTH_TIMEOUT_MS})
    const detail = `${health.status}, pid ${health.pid}, up ${Math.round(health.uptime_secs)} s, version ${health.version}`
    const want = expectedSocketMode()
    if (health.status === 'ok' && socketMode !== want) {
      return warn(name, `${detail}; but ${socket} has mode ${octal(socketMode)}, expected ${octal(want)}`, `chmod ${octal(want)} ${socket} (or \`osmoda doctor --fix\`; a restart recreates it)`)
    }
    if (health.status === 'ok') return ok(name, detail)
    const problems = health.problems?.length ? `: ${health.problems.join('; ')}` : ''
    return warn(name, `${detail}${problems}`, health.status === 'starting' ? 'wait for it to finish starting, then run doctor again' : `see \`osmoda health\` and the daemon's log; fix the problems named`)
  } catch (error) {
    const code = error instanceof OsmodaError ? error.code : 'INTERNAL'
    const message = (error as Error).message
    if (code === 'UNAUTHENTICATED') return fail(name, `${daemon} rejects the token: ${message}`, 'the token and its .sha256 disagree with what the daemon loaded: run `osmoda init`, then `osmoda reload`')
    if (code === 'DAEMON_UNAVAILABLE') return fail(name, `${socket} exists but nothing answers (${message}): a stale socket`, `${start}; it replaces the stale socket`)
    if (code === 'UPSTREAM_TIMEOUT') return fail(name, `${daemon} did not answer /health within ${HEALTH_TIMEOUT_MS} ms`, `the daemon is wedged: restart it (systemctl restart osmoda-${daemon}, or stop and rerun \`osmoda up\`)`)
    return fail(name, `${daemon} /health failed: ${code}: ${message}`, `check the daemon's log (stderr / journalctl -u osmoda-${daemon})`)
  } finally {
    client.close()
  }
}
