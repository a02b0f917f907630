import {stat} from 'node:fs/promises'
import {resolve as resolvePath} from 'node:path'
import type {z} from 'zod'
import {OsmodaError, UsageError} from '../../../lib/errors.js'
import {minimalEnv, runOutputFields, runProcess, type RunResult} from '../../../lib/exec/run.js'
import {which} from '../../../lib/exec/which.js'
import type {Ledger} from '../../../lib/ledger/ledger.js'
import type {RequestContext} from '../../../lib/rpc/server.js'
import type {Gate} from '../approvals/types.js'
import type {HandsConfig} from '../hands-config.js'
import type {ShellExecInput, ShellExecOutput} from './api.js'
import {systemdRunArgv} from './host.js'
import {resolveMasks} from './masks.js'
import type {ExecRateLimiter} from './rate-limit.js'
import {hiddenBySandbox, READ_ONLY_HINT, refusedWrite, sandboxArgv, sandboxUnavailable, type SandboxProbe} from './sandbox.js'
import {quoteArgv, splitCommand} from './split-command.js'
import {checkPath, type PathPolicy} from '../files/path-policy.js'

/** agentd's `exec.*` config. */
export type ExecSettings = z.output<(typeof HandsConfig)['exec']>

type Output = z.input<typeof ShellExecOutput>

/** Dependencies of the exec service. */
export interface ExecServiceDeps {
  gate: Gate
  ledger: Ledger
  rate: ExecRateLimiter
  /** The current `exec.*` config (re-read on every call, so a reload applies to the next one). */
  settings: () => ExecSettings
  /**
   * Every path pattern hidden in sandbox mode: `exec.maskedPaths` with `<state>` expanded, plus
   * osmoda's own run dir, state dir, secrets dir and backup dir, which may live anywhere in dev.
   */
  maskPatterns: () => string[]
  /** Whether bubblewrap works here (cache it: it spawns a probe). */
  probeSandbox: () => Promise<SandboxProbe>
  /** Whether systemd is PID 1 (host commands then run as transient units). */
  systemd: () => Promise<boolean>
  /** The file tools' path policy: an agent's cwd must be a readable, undenied path (SPEC §2.1 "Path policy"). */
  cwdPolicy?: () => PathPolicy
}

/** The exec service: POST /shell/exec. */
export interface ExecService {
  shellExec(input: ShellExecInput, ctx: Pick<RequestContext, 'role' | 'actor' | 'agentId' | 'signal'>): Promise<Output>
}

const SUMMARY_MAX = 500

/**
 * shell_exec (SPEC §2.1): sandbox mode runs under bubblewrap with a read-only, masked view of the
 * host and is never gated; host mode runs the exact argv as the daemon user, after the approval
 * gate for the agent, and is ledgered as `exec.completed`. Agent calls are rate limited per agent id.
 * Everything that can be refused (syntax, cwd, deadline, rate) is refused before the gate, so a
 * bad request never consumes an approval.
 */
export function createExecService(deps: ExecServiceDeps): ExecService {
  return {
    async shellExec(input, ctx) {
      const settings = deps.settings()
      const argv = input.command === undefined ? (input.argv as string[]) : input.shell ? ['/bin/sh', '-c', input.command] : splitCommand(input.command)
      const timeoutSecs = input.timeout_secs ?? settings.defaultTimeoutSecs
      const maxOutputBytes = input.max_output_bytes ?? settings.maxOutputBytes
      checkTimeout(input.mode, timeoutSecs, settings)
      await checkCwd(input.cwd, input.mode)
      if (ctx.role === 'agent' && deps.cwdPolicy) checkPath(input.cwd, {access: 'read'}, deps.cwdPolicy())
      if (ctx.role === 'agent') deps.rate.take(ctx.agentId ?? 'unknown', settings.rateLimit)
      const run = {argv, cwd: input.cwd, timeoutMs: timeoutSecs * 1000, maxOutputBytes, signal: ctx.signal}
      if (input.mode === 'sandbox') return runSandboxed(deps, settings, run)

      await checkProgram(argv[0] as string, input.cwd)
      const decision = deps.gate.check({
        operation: 'shell_exec',
        method: 'POST',
        path: '/shell/exec',
        body: shellExecGateBody(input, settings),
        ctx: {role: ctx.role, actor: ctx.actor},
        summary: summarize(`on the host in ${input.cwd}: `, input.command ?? quoteArgv(argv)),
        approvalId: input.approval_id ?? null,
      })
      // Rules may let host commands through without an approval; the long deadlines still need one.
      if (ctx.role === 'agent' && decision.approval_id === null && timeoutSecs > settings.maxTimeoutSecs) throw timeoutError(timeoutSecs, settings.maxTimeoutSecs, 'without an approval')
      const result = await runOnHost(deps, run, timeoutSecs)
      deps.ledger.append({
        type: 'exec.completed',
        actor: ctx.actor,
        payload: {argv, cwd: input.cwd, exit_code: result.exitCode, timed_out: result.timedOut, duration_ms: result.durationMs, approval_id: decision.approval_id},
      })
      return output('host', argv, result)
    },
  }
}

/**
 * The body an approval for POST /shell/exec is bound to (SPEC §1.6): the validated input with the
 * config defaults of timeout_secs and max_output_bytes filled in and without approval_id.
 * approval_request must build the same body for a shell_exec call to get the same digest.
 */
export function shellExecGateBody(input: ShellExecInput, settings: Pick<ExecSettings, 'defaultTimeoutSecs' | 'maxOutputBytes'>): Record<string, unknown> {
  const {approval_id: _approvalId, ...rest} = input
  return {...rest, timeout_secs: input.timeout_secs ?? settings.defaultTimeoutSecs, max_output_bytes: input.max_output_bytes ?? settings.maxOutputBytes}
}

interface Run {
  argv: string[]
  cwd: string
  timeoutMs: number
  maxOutputBytes: number
  signal: AbortSignal
}

async function runSandboxed(deps: ExecServiceDeps, settings: ExecSettings, run: Run): Promise<Output> {
  const probe = await deps.probeSandbox()
  if (!probe.available || probe.bwrap === null) {
    if (settings.requireSandbox) throw sandboxUnavailable(probe.reason ?? 'unknown')
    const result = await runProcess(run.argv, {cwd: run.cwd, timeoutMs: run.timeoutMs, maxOutputBytes: run.maxOutputBytes, signal: run.signal})
    return {
      ...output('sandbox', run.argv, result),
      warning: `ran WITHOUT a sandbox (${probe.reason ?? 'unavailable'}; exec.requireSandbox is false): the command could change the host as the daemon user`,
    }
  }
  const masks = resolveMasks(deps.maskPatterns(), (path) => hiddenBySandbox(path))
  const wrapped = sandboxArgv(probe.bwrap, run.argv, {cwd: run.cwd, masks})
  // HOME is masked (/root) or private; the sandbox's own /tmp is the one writable place.
  const result = await runProcess(wrapped, {env: {HOME: '/tmp'}, timeoutMs: run.timeoutMs, maxOutputBytes: run.maxOutputBytes, signal: run.signal})
  const out = output('sandbox', run.argv, result)
  return refusedWrite(result.stderr) ? {...out, hint: READ_ONLY_HINT} : out
}

async function runOnHost(deps: ExecServiceDeps, run: Run, timeoutSecs: number): Promise<RunResult> {
  const options = {timeoutMs: run.timeoutMs, maxOutputBytes: run.maxOutputBytes, signal: run.signal}
  if (await deps.systemd()) {
    const env = {PATH: process.env.PATH ?? '', LANG: 'C.UTF-8', TZ: 'UTC', HOME: '/root'}
    return runProcess(systemdRunArgv(run.argv, {timeoutSecs, cwd: run.cwd, env}), options)
  }
  return runProcess(run.argv, {...options, cwd: run.cwd})
}

function output(mode: 'sandbox' | 'host', argv: string[], result: RunResult): Output {
  return {mode, argv, ...runOutputFields(result)}
}

function checkTimeout(mode: 'sandbox' | 'host', timeoutSecs: number, settings: ExecSettings): void {
  // Host mode may ask for the approved maximum: the gate then requires an approval for the agent.
  if (mode === 'sandbox' && timeoutSecs > settings.maxTimeoutSecs) throw timeoutError(timeoutSecs, settings.maxTimeoutSecs, 'in sandbox mode')
  if (mode === 'host' && timeoutSecs > settings.approvedMaxTimeoutSecs) throw timeoutError(timeoutSecs, settings.approvedMaxTimeoutSecs, 'even with an approval')
}

function timeoutError(asked: number, max: number, when: string): UsageError {
  return new UsageError(`timeout_secs ${asked} is over the maximum of ${max} s ${when}`, {
    details: [`timeout_secs: at most ${max} ${when}`],
    hint: 'Split the work into shorter commands; host-mode commands with an approval may run up to exec.approvedMaxTimeoutSecs.',
  })
}

/**
 * cwd must be an existing directory. The shape (absolute, no `..`, no NUL) is checked by the
 * schema; this minimal check stands in until the shared path policy (SPEC §2.1) is wired in.
 */
async function checkCwd(cwd: string, mode: 'sandbox' | 'host'): Promise<void> {
  const info = await stat(cwd).catch(() => null)
  if (!info?.isDirectory()) throw new UsageError(`cwd ${cwd} is not an existing directory`, {details: [`cwd: ${info ? 'not a directory' : 'does not exist'}`], hint: 'Pass an existing absolute directory, e.g. /tmp or /srv/app.'})
  if (mode === 'sandbox' && cwd !== '/tmp' && cwd !== '/run' && hiddenBySandbox(cwd)) {
    throw new UsageError(`cwd ${cwd} does not exist inside the sandbox: its /tmp and /run are fresh and empty`, {
      details: ['cwd: hidden inside the sandbox'],
      hint: 'Use a directory outside /tmp and /run, or mode: "host" (needs an approval).',
    })
  }
}

/** A host command's program must exist before the gate is asked: an approval must not be spent on a typo. */
async function checkProgram(program: string, cwd: string): Promise<void> {
  const candidate = program.includes('/') ? resolvePath(cwd, program) : program
  if (await which(candidate, {path: minimalEnv().PATH})) return
  throw new OsmodaError('NOT_FOUND', `executable "${program}" was not found${program.includes('/') ? '' : ' on PATH'}`, {
    details: {binary: program},
    hint: program.includes('/') ? 'Check the path and that the file is executable.' : 'Check the spelling, or pass the absolute path.',
  })
}

function summarize(prefix: string, commandLine: string): string {
  const text = `${prefix}${commandLine}`
  return text.length <= SUMMARY_MAX ? text : `${text.slice(0, SUMMARY_MAX - 1)}…`
}
