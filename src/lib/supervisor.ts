import {join} from 'node:path'
import {startServiceProcess, type ServiceProcess} from './exec/service-process.js'
import {startDaemon, type DaemonDefinition, type DaemonHandle} from './daemon/runtime.js'
import {createLogger} from './log.js'
import {pathsEnv, type OsmodaPaths} from './paths.js'
import {createClient} from './rpc/client.js'
import {commonApi} from './daemon/common-api.js'

const READY_TIMEOUT_MS = 20_000

/**
 * Node flags for long-running daemons: a 2 MB young generation instead of V8's default 16 MB.
 * Daemons allocate little per request, so scavenges stay cheap, and idle RSS is ~10–15 MB lower.
 * The NixOS units set the same flag through NODE_OPTIONS.
 */
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=2']
const STABLE_MS = 60_000
const MAX_BACKOFF_MS = 30_000

/** What the supervisor knows about one daemon. */
export interface SupervisedState {
  name: string
  state: 'starting' | 'running' | 'backoff' | 'stopping' | 'stopped'
  pid: number | null
  restarts: number
  last_exit: string | null
}

/** How the supervisor runs daemons. */
export interface SupervisorOptions {
  daemons: string[]
  paths: OsmodaPaths
  token: string
  /** Hosts every daemon in this process instead of one child each. */
  singleProcess: boolean
  /** argv prefix that runs this CLI (`[node, bin/run.js]`). */
  cli: string[]
  load(name: string): Promise<DaemonDefinition>
  onChange(state: SupervisedState): void
}

/** Back-off before restart number `n` (1 s, 2 s, 4 s … capped at 30 s). */
export function backoffMs(n: number): number {
  return Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.max(0, n - 1))
}

/**
 * `osmoda up`'s supervisor: starts agentd first and the others once its socket answers (they
 * call it at start), restarts a crashed daemon with capped exponential back-off that resets after
 * a stable minute, and stops everything cleanly in reverse order.
 */
export function createSupervisor(options: SupervisorOptions) {
  const states = new Map<string, SupervisedState>()
  const stopping = new AbortController()
  const running = new Map<string, {stop(): Promise<unknown>}>()
  const loops: Promise<void>[] = []

  const update = (name: string, patch: Partial<SupervisedState>) => {
    const next = {...(states.get(name) as SupervisedState), ...patch}
    states.set(name, next)
    options.onChange(next)
  }

  const launchChild = (name: string): {ready: Promise<void>; exited: Promise<string>; stop(): Promise<unknown>; pid: number} => {
    const [node = process.execPath, ...script] = options.cli
    const child: ServiceProcess = startServiceProcess([node, ...DAEMON_NODE_FLAGS, ...script, 'daemon', name], {
      env: {...(process.env as Record<string, string>), ...pathsEnv(options.paths)},
      logFile: join(options.paths.stateDir, 'logs', `${name}.log`),
    })
    const exited = child.exited.then(({code, signal}) => (signal ? `signal ${signal}` : `exit ${code}`))
    return {ready: waitHealthy(name, exited), exited, stop: () => child.stop(), pid: child.pid}
  }

  const launchInProcess = async (name: string) => {
    const handle: DaemonHandle = startDaemon(await options.load(name), {paths: options.paths, log: createLogger({fields: {daemon: name}, level: 'warn'})})
    const exited = handle.done.then(
      () => 'stopped',
      (error: Error) => `failed: ${error.message}`,
    )
    return {ready: handle.ready, exited, stop: () => handle.stop('supervisor'), pid: process.pid}
  }

  const waitHealthy = async (name: string, exited: Promise<string>) => {
    const client = createClient(name, commonApi, {socketPath: options.paths.socket(name), token: options.token, timeoutMs: 2000})
    const deadline = Date.now() + READY_TIMEOUT_MS
    let gone: string | null = null
    void exited.then((how) => (gone = how))
    try {
      while (Date.now() < deadline) {
        if (gone) throw new Error(`${name} exited during start (${gone})`)
        try {
          await client.health()
          return
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      }
      throw new Error(`${name} did not answer within ${READY_TIMEOUT_MS / 1000} s`)
    } finally {
      client.close()
    }
  }

  /** Runs one daemon until the supervisor stops: start, wait for its end, back off, restart. */
  const superviseOne = async (name: string, firstReady: (error?: Error) => void) => {
    let failures = 0
    let first = true
    while (!stopping.signal.aborted) {
      const startedAt = Date.now()
      const proc = options.singleProcess ? await launchInProcess(name) : launchChild(name)
      running.set(name, proc)
      update(name, {state: 'starting', pid: proc.pid})
      try {
        await proc.ready
        update(name, {state: 'running'})
        if (first) firstReady()
      } catch (error) {
        if (first) firstReady(error as Error)
      }
      first = false
      const how = await proc.exited
      running.delete(name)
      if (stopping.signal.aborted) break
      failures = Date.now() - startedAt >= STABLE_MS ? 1 : failures + 1
      const wait = backoffMs(failures)
      update(name, {state: 'backoff', pid: null, restarts: (states.get(name)?.restarts ?? 0) + 1, last_exit: `${how}; restarting in ${wait / 1000} s`})
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait)
        stopping.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), {once: true})
      })
    }
    update(name, {state: 'stopped', pid: null})
  }

  return {
    /** Starts every daemon (agentd first); resolves once each has answered or failed its first start. */
    async start(): Promise<{name: string; error: string | null}[]> {
      const results: {name: string; error: string | null}[] = []
      for (const name of options.daemons) {
        states.set(name, {name, state: 'starting', pid: null, restarts: 0, last_exit: null})
        const ready = new Promise<Error | undefined>((resolve) => loops.push(superviseOne(name, resolve)))
        const error = await ready
        results.push({name, error: error ? error.message : null})
      }
      return results
    },
    /** Stops every daemon, the last started first. */
    async stop(): Promise<void> {
      stopping.abort()
      for (const name of [...options.daemons].reverse()) {
        const proc = running.get(name)
        if (proc) {
          update(name, {state: 'stopping'})
          await proc.stop()
        }
      }
      await Promise.allSettled(loops)
    },
    states: (): SupervisedState[] => [...states.values()],
  }
}
