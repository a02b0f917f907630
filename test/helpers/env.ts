import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {createClient, type RpcClient} from '../../src/lib/rpc/client.js'
import type {Api, Role} from '../../src/lib/rpc/route.js'
import {pathsFrom, type OsmodaPaths} from '../../src/lib/paths.js'
import {commonApi} from '../../src/lib/daemon/common-api.js'

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
/** The built CLI entry. */
export const BIN = join(ROOT, 'bin', 'run.js')

/** Result of one CLI run. */
export interface CliResult {
  exitCode: number | null
  stdout: string
  stderr: string
  /** stdout parsed as JSON when it is JSON, else undefined. */
  json: any
}

/** A daemon started as a real child process. */
export interface DaemonProcess {
  child: ChildProcess
  socket: string
  /** SIGTERM, then resolves with the exit code once the process has ended. */
  stop(signal?: NodeJS.Signals): Promise<{code: number | null; signal: NodeJS.Signals | null}>
  /** SIGTERM and check the clean-shutdown contract: exit 0 and the socket removed. */
  stopClean(): Promise<void>
  stderr(): string
}

/** A throwaway osmoda installation in a temp dir: paths, CLI, daemons and clients. */
export async function testEnv(options: {init?: boolean} = {}) {
  const base = mkdtempSync(join(tmpdir(), 'osmoda-test-'))
  const paths: OsmodaPaths = pathsFrom({runDir: join(base, 'run'), stateDir: join(base, 'state'), configDir: join(base, 'config')})
  const env = {...process.env, OSMODA_RUN_DIR: paths.runDir, OSMODA_STATE_DIR: paths.stateDir, OSMODA_CONFIG_DIR: paths.configDir, OSMODA_TOKEN: '', OSMODA_TOKEN_FILE: '', OSMODA_EGRESS_LISTEN_PORT: '0', OSMODA_GATEWAY_PORT: '0'}
  delete (env as Record<string, string | undefined>).OSMODA_TOKEN
  delete (env as Record<string, string | undefined>).OSMODA_TOKEN_FILE
  const children = new Set<ChildProcess>()

  const cli = (args: string[], extra: {env?: Record<string, string>; input?: string; timeoutMs?: number} = {}): Promise<CliResult> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], {env: {...env, ...extra.env}, stdio: ['pipe', 'pipe', 'pipe']})
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d) => (stdout += d))
      child.stderr.on('data', (d) => (stderr += d))
      child.stdin.end(extra.input ?? '')
      const timer = setTimeout(() => child.kill('SIGKILL'), extra.timeoutMs ?? 20_000)
      child.once('error', reject)
      child.once('close', (exitCode) => {
        clearTimeout(timer)
        let json: unknown
        try {
          json = JSON.parse(stdout)
        } catch {
          json = undefined
        }
        resolve({exitCode, stdout, stderr, json})
      })
    })

  if (options.init !== false) {
    const init = await cli(['init', '--json'])
    if (init.exitCode !== 0) throw new Error(`osmoda init failed: ${init.stderr}`)
  }

  const token = (role: Role) => readFileSync(join(paths.tokensDir, role), 'utf8').trim()

  const client = <A extends Api>(daemon: string, api: A, role: Role = 'operator', headers: Record<string, string> = {}): RpcClient<A> =>
    createClient(daemon, api, {socketPath: paths.socket(daemon), token: token(role), headers})

  const start = async (name: string, extraEnv: Record<string, string> = {}): Promise<DaemonProcess> => {
    const child = spawn(process.execPath, [BIN, 'daemon', name], {env: {...env, ...extraEnv}, stdio: ['ignore', 'pipe', 'pipe']})
    children.add(child)
    let stderr = ''
    child.stderr?.on('data', (d) => (stderr += d))
    child.stdout?.resume()
    const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) => child.once('exit', (code, signal) => resolve({code, signal})))
    void exited.then(() => children.delete(child))
    const probe = client(name, commonApi)
    const deadline = Date.now() + 15_000
    let up = false
    while (!up && Date.now() < deadline && child.exitCode === null) {
      up = await probe.health().then(() => true, () => false)
      if (!up) await new Promise((r) => setTimeout(r, 50))
    }
    probe.close()
    if (!up) {
      child.kill('SIGKILL')
      throw new Error(`${name} did not become ready: ${stderr}`)
    }
    const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    }
    return {
      child,
      socket: paths.socket(name),
      stop,
      stderr: () => stderr,
      async stopClean() {
        const {code, signal} = await stop('SIGTERM')
        if (code !== 0) throw new Error(`${name} exited with ${code ?? signal}: ${stderr}`)
        if (existsSync(paths.socket(name))) throw new Error(`${name} left its socket behind`)
      },
    }
  }

  return {
    base,
    paths,
    env,
    cli,
    client,
    start,
    token,
    /** Kills anything still running and removes the temp dir. */
    async cleanup() {
      for (const child of children) child.kill('SIGKILL')
      rmSync(base, {recursive: true, force: true})
    },
  }
}

/** The env type returned by testEnv. */
export type TestEnv = Awaited<ReturnType<typeof testEnv>>
