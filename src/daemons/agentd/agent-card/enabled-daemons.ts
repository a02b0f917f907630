import {existsSync, readFileSync} from 'node:fs'
import {connect} from 'node:net'
import {DAEMON_NAMES, type DaemonName, type OsmodaPaths} from '../../../lib/paths.js'

const PROBE_MS = 300
const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:18789'

/** True when something accepts connections on the Unix socket within PROBE_MS. */
export function socketAnswers(path: string, timeoutMs = PROBE_MS): Promise<boolean> {
  if (!existsSync(path)) return Promise.resolve(false)
  return new Promise((resolve) => {
    const socket = connect({path})
    const done = (answer: boolean) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(answer)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/**
 * The daemons enabled on this node, which the card's skills and services reflect. The rule: agentd
 * itself (it is answering), plus every other daemon that this build can run (`available`, from
 * src/daemons/registry.ts) and whose socket `<run>/<name>.sock` accepts a connection now. A socket
 * file left behind by a crashed daemon does not count, and neither does a daemon this build lacks.
 * NixOS starts exactly the enabled services, so "listening" is what "enabled" means on a running node.
 */
export async function detectEnabledDaemons(paths: Pick<OsmodaPaths, 'socket'>, available: readonly string[]): Promise<DaemonName[]> {
  const answers = await Promise.all(
    DAEMON_NAMES.map(async (name) => name === 'agentd' || (available.includes(name) && (await socketAnswers(paths.socket(name))))),
  )
  return DAEMON_NAMES.filter((_, i) => answers[i])
}

/**
 * The gateway's base URL: `listenAddress` and `port` of `<config>/gateway.json` when the file sets
 * them (the NixOS module writes it), else the SPEC §2.10 default 127.0.0.1:18789.
 */
export function gatewayBaseUrl(paths: Pick<OsmodaPaths, 'configFile'>): string {
  let config: unknown
  try {
    config = JSON.parse(readFileSync(paths.configFile('gateway'), 'utf8'))
  } catch {
    return DEFAULT_GATEWAY_URL
  }
  const {listenAddress, port} = (config ?? {}) as {listenAddress?: unknown; port?: unknown}
  const host = typeof listenAddress === 'string' && /^[A-Za-z0-9.:-]{1,253}$/.test(listenAddress) ? listenAddress : '127.0.0.1'
  const portNumber = Number.isInteger(port) && (port as number) >= 1 && (port as number) <= 65_535 ? (port as number) : 18_789
  return `http://${host.includes(':') ? `[${host}]` : host}:${portNumber}`
}
