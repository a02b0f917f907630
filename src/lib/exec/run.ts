// node:child_process rather than execa: execa's timeout and cancelSignal signal only the direct
// child and its maxBuffer kills the child when exceeded. SPEC §1.12 needs the opposite on both
// counts: the whole process group gets SIGTERM/SIGKILL (`process.kill(-pid)` on a `detached`
// child) and output past the cap is drained and dropped while the child keeps running.
import {spawn} from 'node:child_process'
import type {ChildProcess} from 'node:child_process'
import type {Writable} from 'node:stream'
import {stat} from 'node:fs/promises'
import {homedir} from 'node:os'
import {resolve as resolvePath} from 'node:path'
import {BugError, OsmodaError, UsageError} from '../errors.js'
import {createGroupKiller} from './process-group.js'
import {which} from './which.js'

/** Time between SIGTERM and SIGKILL when a process group is stopped (SPEC §1.12). */
export const KILL_GRACE_MS = 2000

/** Default cap on each of stdout and stderr. */
export const DEFAULT_MAX_OUTPUT_BYTES = 65_536

/** PATH used when the daemon itself has none (NixOS wrappers and system profile first). */
export const DEFAULT_PATH = '/run/wrappers/bin:/run/current-system/sw/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/** Options of runProcess. */
export interface RunOptions {
  cwd?: string
  /** Added to the minimal environment (PATH, LANG, TZ, HOME); SUDO_ASKPASS is always removed. */
  env?: Record<string, string>
  /** Deadline for the whole process group, in milliseconds. */
  timeoutMs: number
  signal?: AbortSignal
  /** Cap per stream (default 65536); the rest is read and discarded. */
  maxOutputBytes?: number
  /** Written to stdin, which is then closed; without it stdin is /dev/null. */
  input?: string | Buffer
  /**
   * Data handed to the child on fds 3, 4, … (one pipe each, closed after writing): how a secret
   * reaches a child without entering its argv or environment.
   */
  extraInputs?: readonly (string | Buffer)[]
  /** Called with the child's pid (= its process group id) once it is spawned. */
  onSpawn?: (pid: number) => void
}

/** What a finished child did. */
export interface RunResult {
  argv: string[]
  exitCode: number | null
  signal: string | null
  stdout: string
  stderr: string
  stdoutTruncated: boolean
  stderrTruncated: boolean
  timedOut: boolean
  aborted: boolean
  durationMs: number
}

/** A run's outcome in the snake_case fields that shell_exec and sandbox_exec answer with. */
export function runOutputFields(result: RunResult) {
  return {
    exit_code: result.exitCode,
    signal: result.signal,
    stdout: result.stdout,
    stderr: result.stderr,
    stdout_truncated: result.stdoutTruncated,
    stderr_truncated: result.stderrTruncated,
    timed_out: result.timedOut,
    duration_ms: result.durationMs,
  }
}

/** The environment every child starts from (SPEC §1.12), plus `extra`; never SUDO_ASKPASS. */
export function minimalEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH || DEFAULT_PATH,
    LANG: 'C.UTF-8',
    TZ: 'UTC',
    HOME: process.env.HOME || homedir(),
    ...extra,
  }
  delete env.SUDO_ASKPASS
  return env
}

/**
 * Runs argv (never through a shell: a caller wanting one passes `['/bin/sh', '-c', cmd]`) in its
 * own process group with a deadline, and resolves once it has exited and its output is read. On
 * timeout or abort the whole group gets SIGTERM, then SIGKILL after 2 s. A command's group does not
 * outlive it: anything the leader left running is stopped the same way when the leader exits.
 * Throws NOT_FOUND when the binary or cwd does not exist; a non-zero exit is a result, not an error.
 */
export async function runProcess(argv: readonly string[], options: RunOptions): Promise<RunResult> {
  const [command, ...args] = argv
  if (command === undefined || command === '') throw new BugError('runProcess needs a non-empty argv')
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) throw new BugError(`runProcess needs a positive timeoutMs, got ${options.timeoutMs}`)
  const started = performance.now()
  if (options.signal?.aborted) return notStarted(argv, started)
  const env = minimalEnv(options.env)
  if (options.cwd !== undefined) await assertDirectory(options.cwd)
  const file = await resolveExecutable(command, env.PATH ?? DEFAULT_PATH, options.cwd)
  let child: ChildProcess
  try {
    child = spawn(file, args, {
      argv0: command,
      cwd: options.cwd,
      env,
      detached: true,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe', ...(options.extraInputs ?? []).map(() => 'pipe' as const)],
    })
  } catch (error) {
    // Node throws synchronously for bad arguments (a NUL byte) and for errors such as E2BIG.
    throw spawnError(error as NodeJS.ErrnoException, [...argv])
  }
  if (child.pid !== undefined) options.onSpawn?.(child.pid)
  return superviseChild(child, [...argv], options, started)
}

function notStarted(argv: readonly string[], started: number): RunResult {
  return {
    argv: [...argv],
    exitCode: null,
    signal: null,
    stdout: '',
    stderr: '',
    stdoutTruncated: false,
    stderrTruncated: false,
    timedOut: false,
    aborted: true,
    durationMs: Math.round(performance.now() - started),
  }
}

async function assertDirectory(cwd: string): Promise<void> {
  const info = await stat(cwd).catch(() => null)
  if (!info?.isDirectory()) {
    throw new OsmodaError('NOT_FOUND', `working directory ${cwd} does not exist or is not a directory`, {details: {cwd}, hint: 'Pass an existing directory as cwd.'})
  }
}

async function resolveExecutable(command: string, searchPath: string, cwd: string | undefined): Promise<string> {
  // A relative name with a slash is relative to the child's cwd, as execve would see it.
  const candidate = command.includes('/') ? resolvePath(cwd ?? process.cwd(), command) : command
  const found = await which(candidate, {path: searchPath})
  if (found) return found
  throw new OsmodaError('NOT_FOUND', `executable "${command}" was not found${command.includes('/') ? '' : ' on PATH'}`, {
    details: {binary: command, path: command.includes('/') ? null : searchPath},
    hint: command.includes('/') ? 'Check the path and that the file is executable.' : `Install the package that provides ${command}, or pass an absolute path.`,
  })
}

function superviseChild(child: ChildProcess, argv: string[], options: RunOptions, started: number): Promise<RunResult> {
  const stdout = createCapture(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES)
  const stderr = createCapture(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES)
  child.stdout?.on('data', stdout.push)
  child.stderr?.on('data', stderr.push)
  writeInput(child, options.input)
  options.extraInputs?.forEach((data, index) => {
    const stream = child.stdio[3 + index] as Writable | null
    // Like stdin: a child that never reads its fd makes the write fail with EPIPE.
    stream?.on('error', () => {})
    stream?.end(data)
  })
  const group = createGroupKiller(child, KILL_GRACE_MS)
  let timedOut = false
  let aborted = false
  const deadline = setTimeout(() => {
    timedOut = true
    group.terminate()
  }, Math.min(options.timeoutMs, 2 ** 31 - 1))
  const onAbort = () => {
    aborted = true
    group.terminate()
  }
  options.signal?.addEventListener('abort', onAbort, {once: true})
  // The signal may have fired while the binary was being resolved.
  if (options.signal?.aborted) onAbort()
  // The leader is gone; whatever it left in its group is a straggler.
  child.once('exit', () => group.terminate())

  return new Promise<RunResult>((resolve, reject) => {
    let settled = false
    const cleanup = () => {
      settled = true
      clearTimeout(deadline)
      group.dispose()
      options.signal?.removeEventListener('abort', onAbort)
    }
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (settled) return
      cleanup()
      reject(spawnError(error, argv))
    })
    child.once('close', (exitCode: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return
      cleanup()
      const out = stdout.result()
      const err = stderr.result()
      resolve({
        argv,
        exitCode,
        signal,
        stdout: out.text,
        stderr: err.text,
        stdoutTruncated: out.truncated,
        stderrTruncated: err.truncated,
        timedOut,
        aborted,
        durationMs: Math.round(performance.now() - started),
      })
    })
  })
}

function writeInput(child: ChildProcess, input: string | Buffer | undefined): void {
  if (input === undefined || !child.stdin) return
  // A child that exits without reading its stdin makes the write fail with EPIPE; that is its choice.
  child.stdin.on('error', () => {})
  child.stdin.end(input)
}

function spawnError(error: NodeJS.ErrnoException, argv: string[]): OsmodaError {
  const binary = argv[0] ?? ''
  if (error.code === 'ERR_INVALID_ARG_VALUE' || error.code === 'ERR_INVALID_ARG_TYPE') {
    return new UsageError(`cannot run "${binary}": ${error.message}`, {details: ['argv: arguments and env values must be strings without NUL bytes'], cause: error})
  }
  if (error.code === 'ENOENT') {
    return new OsmodaError('NOT_FOUND', `executable "${binary}" could not be started: not found`, {details: {binary}, cause: error})
  }
  return new OsmodaError('EXEC_FAILED', `executable "${binary}" could not be started: ${error.code ?? error.message}`, {
    details: {binary, errno: error.code ?? null},
    hint: error.code === 'EACCES' ? 'The file is not executable by the daemon user.' : undefined,
    cause: error,
  })
}

/** Collects a stream up to `max` bytes and keeps counting (but not storing) what follows. */
function createCapture(max: number) {
  const chunks: Buffer[] = []
  let size = 0
  let truncated = false
  return {
    push(chunk: Buffer): void {
      if (truncated) return
      const room = max - size
      if (chunk.length <= room) {
        chunks.push(chunk)
        size += chunk.length
        return
      }
      if (room > 0) chunks.push(chunk.subarray(0, room))
      size = max
      truncated = true
    },
    result(): {text: string; truncated: boolean} {
      const bytes = Buffer.concat(chunks)
      return {text: (truncated ? dropPartialUtf8(bytes) : bytes).toString('utf8'), truncated}
    },
  }
}

/** Drops a multi-byte UTF-8 sequence cut by the cap, so truncated text does not end in U+FFFD. */
function dropPartialUtf8(bytes: Buffer): Buffer {
  // Look back at most 3 bytes for the lead byte of the last sequence.
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back] as number
    if ((byte & 0xc0) === 0x80) continue
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1
    return needed > back ? bytes.subarray(0, bytes.length - back) : bytes
  }
  return bytes
}
