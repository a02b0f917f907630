// The in-sandbox helper of tier-1 runs with network (`bin/sandbox-init.js`, SPEC §2.1 "Sandboxes").
// It runs inside bubblewrap, so it imports nothing but Node's built-ins: no oclif, no zod.
import {spawn} from 'node:child_process'
import {accessSync, closeSync, constants, readFileSync} from 'node:fs'
import {connect, createServer, type Server, type Socket} from 'node:net'
import {constants as osConstants} from 'node:os'
import {join} from 'node:path'

/** Port of the helper's CONNECT listener on the sandbox's own loopback. */
export const HELPER_PORT = 3128
/** The fd on which agentd hands over the capability token. */
export const TOKEN_FD = 3
const MAX_HEAD_BYTES = 16_384
const TARGET_RE = /^(?:\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9.-]{1,253}):\d{1,5}$/

/**
 * `sandbox-init --egress <socket> -- argv…`: reads the token from fd 3 and closes it, listens on
 * 127.0.0.1:3128, then runs argv with HTTPS_PROXY/HTTP_PROXY/ALL_PROXY pointing there. Each CONNECT
 * is forwarded to the egress Unix socket with `Proxy-Authorization: Bearer <token>` added; the
 * egress answer (200 or a denial) goes back to the client unchanged. The token is never put in
 * argv's environment or arguments. The command is started under `unshare --user --pid
 * --mount-proc` when available, so it cannot see (or ptrace, or read /proc/<pid>/mem of) this
 * helper, which runs as the same uid. Resolves with the command's exit code (128+n on signal n).
 */
export async function runSandboxInit(args: readonly string[]): Promise<number> {
  const sep = args.indexOf('--')
  const egressIndex = args.indexOf('--egress')
  const egress = egressIndex >= 0 && egressIndex < sep ? args[egressIndex + 1] : undefined
  const argv = sep >= 0 ? args.slice(sep + 1) : []
  if (!egress || argv.length === 0) {
    process.stderr.write('usage: sandbox-init --egress <socket> -- <command> [args…]\n')
    return 125
  }
  let token: string
  try {
    token = readFileSync(TOKEN_FD, 'utf8').trim()
    closeSync(TOKEN_FD)
  } catch (error) {
    process.stderr.write(`sandbox-init: no capability token on fd ${TOKEN_FD}: ${(error as Error).message}\n`)
    return 125
  }
  if (!/^[\x21-\x7e]{1,65536}$/.test(token)) {
    process.stderr.write('sandbox-init: the capability token on fd 3 is empty or not printable ASCII\n')
    return 125
  }
  const server = createServer((client) => forwardConnect(client, egress, token))
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(HELPER_PORT, '127.0.0.1', () => resolve())
    })
  } catch (error) {
    process.stderr.write(`sandbox-init: cannot listen on 127.0.0.1:${HELPER_PORT}: ${(error as Error).message}\n`)
    return 125
  }
  return runCommand(argv, server)
}

function findOnPath(binary: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir.startsWith('/')) continue
    try {
      accessSync(join(dir, binary), constants.X_OK)
      return join(dir, binary)
    } catch {
      // not here
    }
  }
  return null
}

function runCommand(argv: readonly string[], server: Server): Promise<number> {
  const proxy = `http://127.0.0.1:${HELPER_PORT}`
  // curl reads only the lower-case http_proxy; most other tools take either spelling.
  const env = {...process.env, HTTPS_PROXY: proxy, HTTP_PROXY: proxy, ALL_PROXY: proxy, https_proxy: proxy, http_proxy: proxy, all_proxy: proxy}
  const unshare = findOnPath('unshare')
  const full = unshare ? [unshare, '--user', '--map-current-user', '--pid', '--fork', '--mount-proc', '--kill-child', '--', ...argv] : [...argv]
  return new Promise((resolve) => {
    const child = spawn(full[0] as string, full.slice(1), {env, stdio: 'inherit'})
    const forward = (signal: NodeJS.Signals) => child.kill(signal)
    process.on('SIGTERM', forward)
    process.on('SIGINT', forward)
    child.once('error', (error) => {
      process.stderr.write(`sandbox-init: cannot run ${argv[0]}: ${error.message}\n`)
      server.close()
      resolve(127)
    })
    child.once('exit', (code, signal) => {
      server.close()
      resolve(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0))
    })
  })
}

function refuse(client: Socket, status: string, text: string): void {
  client.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`)
}

/** Reads one request head; only `CONNECT host:port` is forwarded, with the token added. */
function forwardConnect(client: Socket, egressSocket: string, token: string): void {
  let head = Buffer.alloc(0)
  client.on('error', () => client.destroy())
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk])
    const end = head.indexOf('\r\n\r\n')
    if (end < 0) {
      if (head.length > MAX_HEAD_BYTES) refuse(client, '431 Request Header Fields Too Large', 'request head too large\n')
      return
    }
    client.off('data', onData)
    client.pause()
    const requestLine = head.subarray(0, head.indexOf('\r\n')).toString('latin1')
    const match = /^CONNECT (\S+) HTTP\/1\.[01]$/.exec(requestLine)
    if (!match || !TARGET_RE.test(match[1] as string)) {
      refuse(client, '405 Method Not Allowed', 'only CONNECT host:port is proxied (HTTPS through osmoda egress)\n')
      return
    }
    const target = match[1] as string
    const rest = head.subarray(end + 4)
    const upstream = connect(egressSocket)
    upstream.once('connect', () => {
      // Whatever the client sent as headers (its own Proxy-Authorization included) is dropped.
      upstream.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`)
      if (rest.length) upstream.write(rest)
      client.pipe(upstream)
      upstream.pipe(client)
      client.resume()
    })
    upstream.once('error', (error) => {
      if (!client.destroyed && client.bytesWritten === 0) refuse(client, '502 Bad Gateway', `egress proxy unreachable: ${error.message}\n`)
      else client.destroy()
    })
    upstream.once('close', () => client.end())
    client.once('close', () => upstream.destroy())
  }
  client.on('data', onData)
}
