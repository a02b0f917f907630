import {spawn} from 'node:child_process'
import {closeSync, mkdirSync, openSync} from 'node:fs'
import {dirname} from 'node:path'

/** A long-running child (a daemon under `osmoda up`), in its own process group. */
export interface ServiceProcess {
  pid: number
  /** Resolves with the exit code (or null) and signal once the child has exited. */
  exited: Promise<{code: number | null; signal: NodeJS.Signals | null}>
  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<{code: number | null; signal: NodeJS.Signals | null}>
}

/** Options for startServiceProcess. */
export interface ServiceProcessOptions {
  env: Record<string, string>
  /** File that receives the child's stdout and stderr (appended). */
  logFile: string
  cwd?: string
}

/**
 * Starts a long-running child without a deadline: argv only, stdin closed, its own process group
 * (so stopping it also stops anything it started), output appended to a log file. Deadline-bound
 * commands use runProcess instead.
 */
export function startServiceProcess(argv: readonly string[], options: ServiceProcessOptions): ServiceProcess {
  const [command, ...args] = argv
  if (!command) throw new Error('startServiceProcess needs a command')
  mkdirSync(dirname(options.logFile), {recursive: true, mode: 0o700})
  const log = openSync(options.logFile, 'a', 0o600)
  let child
  try {
    child = spawn(command, args, {env: options.env, cwd: options.cwd, detached: true, stdio: ['ignore', log, log]})
  } finally {
    // The child holds its own copy of the descriptor.
    closeSync(log)
  }
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) => {
    child.once('exit', (code, signal) => resolve({code, signal}))
    child.once('error', () => resolve({code: null, signal: null}))
  })
  const pid = child.pid ?? -1
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal)
    } catch {
      // Already gone.
    }
  }
  return {
    pid,
    exited,
    async stop(graceMs = 10_000) {
      killGroup('SIGTERM')
      const timer = setTimeout(() => killGroup('SIGKILL'), graceMs)
      try {
        return await exited
      } finally {
        clearTimeout(timer)
      }
    },
  }
}
