import type {z} from 'zod'
import {loadDaemonConfig} from '../config.js'
import {toOsmodaError} from '../errors.js'
import {openLedger, type Ledger} from '../ledger/ledger.js'
import {createLogger, type Logger, type LogLevel} from '../log.js'
import type {OsmodaPaths} from '../paths.js'
import {VERSION} from '../version.js'

/** What `POST /reload` and SIGHUP answer (SPEC §1.13). */
export interface ReloadResult {
  reloaded: boolean
  changed: string[]
}

/** Everything a daemon's main receives; daemons keep no module-level state. */
export interface DaemonContext<C = unknown> {
  name: string
  version: string
  paths: OsmodaPaths
  log: Logger
  config: C
  configSha256: string
  /** This daemon's connection to the shared ledger. */
  ledger: Ledger
  /** Aborted when the daemon must stop (SIGTERM, Ctrl-C, supervisor). */
  signal: AbortSignal
  /** Called by main once its socket listens. */
  ready(): void
  /** Re-reads and validates the config (for reload); throws like start does on a bad file. */
  readConfig(): C
  /** Registers what SIGHUP and POST /reload do. */
  onReload(handler: () => Promise<ReloadResult> | ReloadResult): void
}

/** A daemon: its config schema and its main, which resolves once everything is closed. */
export interface DaemonDefinition<S extends z.ZodObject = z.ZodObject> {
  name: string
  configSchema: S
  main(ctx: DaemonContext<z.output<S>>): Promise<void>
}

/** Options for starting a daemon in this process. */
export interface StartOptions {
  paths: OsmodaPaths
  env?: Record<string, string | undefined>
  /** `--config FILE` (default `<config>/<name>.json`). */
  configFile?: string
  logLevel?: LogLevel
  log?: Logger
}

/** A running daemon. */
export interface DaemonHandle {
  name: string
  /** Resolves when the socket listens; rejects if start failed. */
  ready: Promise<void>
  /** Resolves when the daemon has stopped and cleaned up. */
  done: Promise<void>
  stop(reason?: string): Promise<void>
  reload(): Promise<ReloadResult>
}

/**
 * Starts a daemon in this process: loads and validates its config, opens the ledger, runs main,
 * and writes `daemon.started` once ready and `daemon.stopped` after it has drained. Installs no
 * signal handlers, so tests and `osmoda up --single-process` can host several daemons.
 */
export function startDaemon(definition: DaemonDefinition, options: StartOptions): DaemonHandle {
  const {name} = definition
  const controller = new AbortController()
  let stopReason = 'stopped'
  let reloadHandler: (() => Promise<ReloadResult> | ReloadResult) | null = null
  let markReady!: () => void
  let failReady!: (error: unknown) => void
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve
    failReady = reject
  })

  const run = async () => {
    const load = () =>
      loadDaemonConfig(name, definition.configSchema, {
        file: options.configFile ?? options.paths.configFile(name),
        fileRequired: options.configFile !== undefined,
        env: options.env ?? process.env,
        flags: {logLevel: options.logLevel},
      })
    const {config, sha256} = load()
    const level = (config as {logLevel?: LogLevel}).logLevel ?? 'info'
    const log = options.log ?? createLogger({level, fields: {daemon: name}})
    const ledger = openLedger(options.paths.ledgerDb)
    let started = false
    const ctx: DaemonContext = {
      name,
      version: VERSION,
      paths: options.paths,
      log,
      config,
      configSha256: sha256,
      ledger,
      signal: controller.signal,
      readConfig: () => load().config,
      ready: () => {
        if (started) return
        started = true
        ledger.append({type: 'daemon.started', actor: name, payload: {daemon: name, version: VERSION, pid: process.pid, config_sha256: sha256}})
        log.info('ready', {socket: options.paths.socket(name), pid: process.pid})
        markReady()
      },
      onReload: (handler) => {
        reloadHandler = handler
      },
    }
    try {
      await definition.main(ctx as DaemonContext<z.output<typeof definition.configSchema>>)
      if (started) ledger.append({type: 'daemon.stopped', actor: name, payload: {daemon: name, reason: stopReason}})
      log.info('stopped', {reason: stopReason})
    } finally {
      ledger.close()
    }
    if (!started) throw new Error(`${name} returned before it was ready`)
  }

  const done = run().catch((error: unknown) => {
    failReady(error)
    throw toOsmodaError(error)
  })
  // `ready` carries the failure to callers that only await readiness.
  done.catch(() => {})
  ready.catch(() => {})

  return {
    name,
    ready,
    done,
    async stop(reason = 'stopped') {
      stopReason = reason
      controller.abort()
      await done.catch(() => {})
    },
    async reload() {
      if (!reloadHandler) return {reloaded: false, changed: []}
      return reloadHandler()
    },
  }
}
