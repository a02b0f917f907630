import {existsSync} from 'node:fs'
import {request as httpRequest} from 'node:http'
import {request as httpsRequest} from 'node:https'
import {connect} from 'node:net'
import {isAbsolute} from 'node:path'
import {z} from 'zod'
import {runProcess} from './exec/run.js'
import {which} from './exec/which.js'

/** Unit names a `systemd_unit` check may name (SPEC §2.3). */
export const UNIT_NAME = /^[A-Za-z0-9@._:-]{1,256}$/

/** Largest per-check timeout (SPEC §2.3 `checkTimeouts`, max 120). */
export const MAX_CHECK_TIMEOUT_SECS = 120

/** An absolute path to an executable, as every argv-exec check and command takes. */
export const AbsoluteExecutable = z
  .string()
  .min(2)
  .max(4096)
  .refine((p) => isAbsolute(p) && !p.includes('\0'), 'must be an absolute path to an executable')
  .describe('Absolute path of the executable (argv exec, no shell)')

/** argv after the executable: ≤ 64 strings of ≤ 4096 characters. */
export const CheckArgs = z.array(z.string().max(4096)).max(64).default([]).describe('Arguments (at most 64, each at most 4096 characters)')

const Timeout = z.number().int().min(1).max(MAX_CHECK_TIMEOUT_SECS).optional().describe(`Seconds before the check counts as failed (1..${MAX_CHECK_TIMEOUT_SECS}; default per check type)`)

/** One health check (SPEC §2.3), shared by SafeSwitch, watchers and fleet deploys. */
export const HealthCheck = z.discriminatedUnion('type', [
  z.strictObject({type: z.literal('systemd_unit'), unit: z.string().regex(UNIT_NAME, 'expected a unit name [A-Za-z0-9@._:-]{1,256}').describe('Passes when the unit\'s ActiveState is active')}),
  z.strictObject({
    type: z.literal('tcp_port'),
    host: z.string().min(1).max(253).default('127.0.0.1').describe('Host to connect to (default 127.0.0.1)'),
    port: z.number().int().min(1).max(65_535).describe('Passes when a TCP connection succeeds'),
  }),
  z.strictObject({
    type: z.literal('http_get'),
    url: z
      .url({protocol: /^https?$/})
      .max(2048)
      .describe('http:// or https:// URL fetched with GET'),
    expect_status: z.number().int().min(100).max(599).default(200).describe('Passes when the response status equals this (default 200)'),
    timeout_secs: Timeout,
  }),
  z.strictObject({type: z.literal('command'), command: AbsoluteExecutable, args: CheckArgs, timeout_secs: Timeout}),
])

/** A validated health check. */
export type HealthCheck = z.output<typeof HealthCheck>

/** Default seconds per check type (SPEC §2.3 `checkTimeouts`). */
export const CheckTimeouts = z
  .strictObject({
    systemd_unit: z.number().int().min(1).max(MAX_CHECK_TIMEOUT_SECS).default(10),
    tcp_port: z.number().int().min(1).max(MAX_CHECK_TIMEOUT_SECS).default(5),
    http_get: z.number().int().min(1).max(MAX_CHECK_TIMEOUT_SECS).default(10),
    command: z.number().int().min(1).max(MAX_CHECK_TIMEOUT_SECS).default(30),
  })
  .prefault({})

/** Per-type default timeouts. */
export type CheckTimeouts = z.output<typeof CheckTimeouts>

/** What one check run found. */
export interface CheckOutcome {
  ok: boolean
  detail: string
  duration_ms: number
}

/** True when systemd is PID 1 (the test sd_booted() uses). */
export function systemdAvailable(): boolean {
  return existsSync('/run/systemd/system')
}

/**
 * Runs one check with its timeout and never throws: a check that cannot run (systemd missing, a
 * missing executable, a refused connection) is a failing check whose `detail` says why.
 */
export async function runHealthCheck(check: HealthCheck, timeouts: CheckTimeouts, signal?: AbortSignal): Promise<CheckOutcome> {
  const started = performance.now()
  const finish = (ok: boolean, detail: string): CheckOutcome => ({ok, detail: detail.slice(0, 500), duration_ms: Math.round(performance.now() - started)})
  try {
    switch (check.type) {
      case 'systemd_unit':
        return await checkUnit(check.unit, timeouts.systemd_unit * 1000, signal, finish)
      case 'tcp_port':
        return await checkTcp(check.host, check.port, timeouts.tcp_port * 1000, finish)
      case 'http_get':
        return await checkHttp(check.url, check.expect_status, (check.timeout_secs ?? timeouts.http_get) * 1000, finish)
      case 'command':
        return await checkCommand(check.command, check.args, (check.timeout_secs ?? timeouts.command) * 1000, signal, finish)
    }
  } catch (error) {
    return finish(false, (error as Error).message)
  }
}

type Finish = (ok: boolean, detail: string) => CheckOutcome

async function checkUnit(unit: string, timeoutMs: number, signal: AbortSignal | undefined, finish: Finish): Promise<CheckOutcome> {
  if (!systemdAvailable()) return finish(false, 'systemd unavailable: systemd is not PID 1 on this host, so unit state cannot be read')
  const result = await runProcess(['systemctl', 'show', '--property=ActiveState', '--value', '--', unit], {timeoutMs, signal, maxOutputBytes: 4096})
  if (result.timedOut) return finish(false, `systemctl timed out after ${timeoutMs} ms`)
  const state = result.stdout.trim()
  if (result.exitCode !== 0) return finish(false, `systemctl exited ${result.exitCode}: ${result.stderr.trim()}`)
  return finish(state === 'active', `ActiveState=${state || 'unknown'}`)
}

function checkTcp(host: string, port: number, timeoutMs: number, finish: Finish): Promise<CheckOutcome> {
  return new Promise((resolve) => {
    const socket = connect({host, port})
    const timer = setTimeout(() => {
      socket.destroy()
      resolve(finish(false, `no connection to ${host}:${port} within ${timeoutMs} ms`))
    }, timeoutMs)
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.destroy()
      resolve(finish(true, `connected to ${host}:${port}`))
    })
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      resolve(finish(false, `${host}:${port}: ${error.code ?? error.message}`))
    })
  })
}

function checkHttp(url: string, expect: number, timeoutMs: number, finish: Finish): Promise<CheckOutcome> {
  return new Promise((resolve) => {
    const request = url.startsWith('https:') ? httpsRequest : httpRequest
    const req = request(url, {method: 'GET', timeout: timeoutMs, headers: {'user-agent': 'osmoda-health-check'}}, (res) => {
      res.resume()
      const status = res.statusCode ?? 0
      resolve(finish(status === expect, `GET ${url} answered ${status}${status === expect ? '' : ` (expected ${expect})`}`))
    })
    req.once('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)))
    req.once('error', (error: NodeJS.ErrnoException) => resolve(finish(false, error.message.startsWith('GET ') ? error.message : `GET ${url}: ${error.code ?? error.message}`)))
    req.end()
  })
}

async function checkCommand(command: string, args: string[], timeoutMs: number, signal: AbortSignal | undefined, finish: Finish): Promise<CheckOutcome> {
  if (!(await which(command))) return finish(false, `${command} does not exist or is not executable`)
  const result = await runProcess([command, ...args], {timeoutMs, signal, maxOutputBytes: 4096})
  if (result.timedOut) return finish(false, `${command} timed out after ${timeoutMs} ms`)
  if (result.exitCode === 0) return finish(true, 'exit 0')
  const tail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-1)[0] ?? ''
  return finish(false, `exit ${result.exitCode ?? result.signal}${tail ? `: ${tail}` : ''}`)
}
