// One runtime turn as a child process: spawn detached (own process group), message on stdin then
// EOF, stdout parsed line by line into frames, the three caps of SPEC §2.10 "Runs" enforced, and
// the whole group stopped with SIGTERM then SIGKILL. Drivers supply the argv and the line parser.
import {spawn} from 'node:child_process'
import type {ChildProcess} from 'node:child_process'
import {StringDecoder} from 'node:string_decoder'
import {OsmodaError} from '../../../lib/errors.js'
import {KILL_GRACE_MS} from '../../../lib/exec/run.js'
import {createGroupKiller, type GroupKiller} from '../../../lib/exec/process-group.js'
import {FrameQueue} from './frame-queue.js'
import {RUN_STOP_CODES, type Frame, type Run, type RunLimits, type StopReason} from './types.js'

/** What to start: resolved by the driver (binary found, files written) before the spawn. */
export interface SpawnPlan {
  /** argv[0] must be an absolute path (resolved by the driver). */
  argv: string[]
  env: Record<string, string>
  cwd: string
  stdin: string
  /** Runs once the run is over (per-run files the driver wrote). */
  cleanup?: () => void
}

/** Turns the runtime's stdout lines into frames; `end` flushes what is pending when the stream ends. */
export interface StreamParser {
  line(text: string): Frame[]
  end(): Frame[]
}

/** A line longer than this is reported as garbled instead of buffered further. */
const MAX_LINE_CHARS = 4 * 1024 * 1024
/** After the final frame, the runtime gets this long to exit by itself before its group is stopped. */
const EXIT_AFTER_DONE_MS = 5000
const STDERR_TAIL_CHARS = 2000
/** How long the end of a run waits for killed group members to be reaped (SIGKILL grace + reaping). */
const GROUP_GONE_WAIT_MS = KILL_GRACE_MS + 3000

/** Polls until no process is left in the group (or the wait is over: EPERM, a member we cannot see die). */
async function waitForGroupGone(pgid: number, maxMs: number): Promise<void> {
  const until = Date.now() + maxMs
  for (;;) {
    try {
      process.kill(-pgid, 0)
    } catch {
      return
    }
    if (Date.now() >= until) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** Starts a supervised run; never throws: every failure becomes an `error` frame. */
export function startSupervisedRun(prepare: () => Promise<SpawnPlan>, parser: StreamParser, limits: RunLimits, runtimeLabel: string): Run {
  return new SupervisedRun(prepare, parser, limits, runtimeLabel)
}

class SupervisedRun implements Run {
  readonly frames = new FrameQueue()
  private child: ChildProcess | null = null
  private group: GroupKiller | null = null
  private terminal = false
  private stopping: StopReason | null = null
  private readonly startedAt = Date.now()
  private signalled = false
  private lastActivityAt = this.startedAt
  private timer: NodeJS.Timeout | null = null
  private exitTimer: NodeJS.Timeout | null = null
  private stderrTail = ''
  private spawnPending = true
  private cleanup: (() => void) | null = null
  private closed: Promise<void>
  private resolveClosed!: () => void

  constructor(prepare: () => Promise<SpawnPlan>, private readonly parser: StreamParser, private readonly limits: RunLimits, private readonly label: string) {
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve))
    this.schedule()
    prepare().then(
      (plan) => this.spawn(plan),
      (error: unknown) => this.failBeforeSpawn(error),
    )
  }

  get pid(): number | null {
    return this.child?.pid ?? null
  }

  noteHeartbeat(inFlightTools: number): void {
    if (this.terminal) return
    this.signalled = true
    if (inFlightTools > 0) this.lastActivityAt = Date.now()
    this.schedule()
  }

  async stop(reason: StopReason): Promise<void> {
    if (!this.terminal) {
      this.stopping = reason
      this.finishWith({type: 'error', code: RUN_STOP_CODES[reason], message: stopMessage(reason, this.limits)})
    }
    this.group?.terminate()
    if (this.child === null && this.stopping !== null) {
      // Not spawned yet (or never will be): nothing to wait for.
      if (!this.spawnPending) this.close()
    }
    await this.closed
  }

  private spawn(plan: SpawnPlan): void {
    this.spawnPending = false
    this.cleanup = plan.cleanup ?? null
    if (this.terminal) return this.close()
    let child: ChildProcess
    try {
      const [file, ...args] = plan.argv
      child = spawn(file as string, args, {cwd: plan.cwd, env: plan.env, detached: true, stdio: ['pipe', 'pipe', 'pipe']})
    } catch (error) {
      return this.failBeforeSpawn(error)
    }
    this.child = child
    this.group = createGroupKiller(child, KILL_GRACE_MS)
    child.once('error', (error: NodeJS.ErrnoException) => {
      // ENOENT/EACCES at exec time: no 'close' may follow when the spawn itself failed.
      this.finishWith({type: 'error', code: error.code === 'ENOENT' ? 'RUNTIME_NOT_FOUND' : 'RUNTIME_ERROR', message: `${this.label} could not be started: ${error.code ?? error.message}`})
      if (child.pid === undefined) this.close()
    })
    child.stdin?.on('error', () => {})
    child.stdin?.end(plan.stdin)
    this.readLines(child)
    child.stderr?.setEncoding('utf8')
    child.stderr?.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_CHARS)
    })
    // The leader is gone; anything it left in its group is a straggler.
    child.once('exit', () => this.group?.terminate())
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => this.onClose(code, signal))
    if (this.stopping !== null) this.group.terminate()
  }

  private readLines(child: ChildProcess): void {
    const decoder = new StringDecoder('utf8')
    let pending = ''
    const take = (text: string) => {
      pending += text
      let newline = pending.indexOf('\n')
      while (newline !== -1) {
        this.onLine(pending.slice(0, newline))
        pending = pending.slice(newline + 1)
        newline = pending.indexOf('\n')
      }
      if (pending.length > MAX_LINE_CHARS) {
        this.onLine(pending, true)
        pending = ''
      }
    }
    child.stdout?.on('data', (chunk: Buffer) => take(decoder.write(chunk)))
    child.stdout?.on('end', () => {
      take(decoder.end())
      if (pending.trim() !== '') this.onLine(pending)
      pending = ''
    })
  }

  private onLine(line: string, overlong = false): void {
    if (this.terminal) return
    const text = line.replace(/\r$/, '')
    if (text.trim() === '') return
    this.signalled = true
    this.lastActivityAt = Date.now()
    this.schedule()
    const frames: Frame[] = overlong ? [{type: 'garbled', line: `${text.slice(0, 200)}… (line over ${MAX_LINE_CHARS} chars)`}] : this.parser.line(text)
    for (const frame of frames) {
      if (this.terminal) return
      if (frame.type === 'done' || frame.type === 'error') this.finishWith(frame)
      else this.frames.push(frame)
    }
  }

  private onClose(code: number | null, signal: NodeJS.Signals | null): void {
    if (!this.terminal) {
      for (const frame of this.parser.end()) if (frame.type !== 'done' && frame.type !== 'error') this.frames.push(frame)
      const how = signal ? `was killed by ${signal}` : code === 0 ? 'exited without a result' : `exited with code ${code}`
      const tail = this.stderrTail.trim()
      this.finishWith({type: 'error', code: 'RUNTIME_ERROR', message: `${this.label} ${how}${tail ? `: ${tail.slice(-500)}` : ''}`})
    }
    this.close()
  }

  /** Pushes the run's last frame (done or error) and arms the exit grace; later frames are dropped. */
  private finishWith(frame: Frame): void {
    if (this.terminal) return
    if (frame.type === 'done' || frame.type === 'error') {
      for (const pending of this.parser.end()) if (pending.type !== 'done' && pending.type !== 'error') this.frames.push(pending)
    }
    this.frames.push(frame)
    this.terminal = true
    this.clearTimer()
    if (this.child !== null && this.stopping === null) {
      this.exitTimer = setTimeout(() => this.group?.terminate(), EXIT_AFTER_DONE_MS)
      this.exitTimer.unref()
    }
  }

  private failBeforeSpawn(error: unknown): void {
    this.spawnPending = false
    const code = error instanceof OsmodaError ? error.code : 'RUNTIME_ERROR'
    this.finishWith({type: 'error', code, message: error instanceof Error ? error.message : String(error)})
    this.close()
  }

  private close(): void {
    this.clearTimer()
    if (this.exitTimer) clearTimeout(this.exitTimer)
    const pid = this.child?.pid
    // The frames end only once the whole group is gone, so "run over" means "no process left".
    void (pid === undefined ? Promise.resolve() : waitForGroupGone(pid, GROUP_GONE_WAIT_MS)).then(() => {
      try {
        this.cleanup?.()
      } catch {
        // A leftover per-run file is not worth failing the run over.
      }
      this.cleanup = null
      this.group?.dispose()
      this.frames.end()
      this.resolveClosed()
    })
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  /** Arms one timer for the earliest cap deadline. */
  private schedule(): void {
    if (this.terminal) return
    this.clearTimer()
    // Until the first signal the first-signal cap governs; the watchdog starts with it.
    const deadlines = [this.startedAt + this.limits.chatHardCapMs]
    deadlines.push(this.signalled ? this.lastActivityAt + this.limits.chatWatchdogMs : this.startedAt + this.limits.firstSignalTimeoutMs)
    const wait = Math.max(0, Math.min(...deadlines) - Date.now())
    this.timer = setTimeout(() => this.checkCaps(), Math.min(wait, 2 ** 31 - 1))
  }

  private checkCaps(): void {
    this.timer = null
    if (this.terminal) return
    const now = Date.now()
    let reason: StopReason | null = null
    if (now - this.startedAt >= this.limits.chatHardCapMs) reason = 'hard_cap'
    else if (!this.signalled && now - this.startedAt >= this.limits.firstSignalTimeoutMs) reason = 'first_signal'
    else if (this.signalled && now - this.lastActivityAt >= this.limits.chatWatchdogMs) reason = 'watchdog'
    if (reason === null) return this.schedule()
    void this.stop(reason)
  }
}

function stopMessage(reason: StopReason, limits: RunLimits): string {
  switch (reason) {
    case 'first_signal':
      return `no frame and no heartbeat within ${limits.firstSignalTimeoutMs} ms`
    case 'watchdog':
      return `no activity for ${limits.chatWatchdogMs} ms`
    case 'hard_cap':
      return `the run exceeded the hard cap of ${limits.chatHardCapMs} ms`
    case 'supersede':
      return 'superseded by a newer message on the same session'
    case 'wedge':
      return 'the agent was wedged; the run was stopped for recovery'
    case 'shutdown':
      return 'the gateway is shutting down'
    case 'user':
      return 'stopped by the user'
  }
}
