import {chmod, mkdir, mkdtemp, rm, symlink, writeFile} from 'node:fs/promises'
import {once} from 'node:events'
import {createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {HEALTH} from '../../../../test/helpers/mcp-fakes.js'
import {OsmodaError} from '../../../lib/errors.js'
import type {RunResult} from '../../../lib/exec/run.js'
import {openLedger, type Ledger} from '../../../lib/ledger/ledger.js'
import {silentLogger} from '../../../lib/log.js'
import type {Gate, GateRequest} from '../approvals/types.js'
import type {Runner} from '../services/service.js'
import {createSafetyService, type SafetyDeps} from './service.js'
import {GATEWAY_UNIT, PANIC_UNITS, rollbackCommand, transientUnitArgv} from './units.js'

const NOW = 1_764_072_000_000
const NIX_ENV = '/usr/bin/nix-env'

/** The approval gate's test double: records every check; `require` makes agent calls wait for approval. */
function fakeGate(mode: 'allow' | 'require') {
  const checks: GateRequest[] = []
  const gate: Gate = {
    check(request) {
      checks.push(request)
      if (request.ctx.role === 'operator') return {decision: 'allow', approval_id: null, reason: 'operator'}
      if (mode === 'allow' || request.approvalId) return {decision: 'allow', approval_id: request.approvalId ?? null, reason: 'approved'}
      throw new OsmodaError('APPROVAL_REQUIRED', `${request.operation} needs approval`, {
        details: {approval_id: 'apr_01JDQZ9V7C4Y3M2N1P0Q9R8S7T', expires_at: '2026-11-25T12:10:00.000Z', operation: request.operation, summary: request.summary},
      })
    },
  }
  return {gate, checks}
}

function fakeRunner(exitCode: number | null = 0, aborted = false) {
  const calls: (readonly string[])[] = []
  const run: Runner = async (argv) => {
    calls.push(argv)
    const result: RunResult = {argv: [...argv], exitCode, signal: null, stdout: '', stderr: exitCode ? 'boom' : '', stdoutTruncated: false, stderrTruncated: false, timedOut: false, aborted, durationMs: 1}
    return result
  }
  return {run, calls}
}

async function caught(promise: Promise<unknown>): Promise<OsmodaError> {
  try {
    await promise
  } catch (error) {
    return error as OsmodaError
  }
  throw new Error('expected a rejection')
}

const AGENT = {role: 'agent', actor: 'agent:ops'} as const
const OPERATOR = {role: 'operator', actor: 'operator:alice'} as const

let dir: string
let ledger: Ledger
let controller: AbortController

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'osmoda-safety-'))
  ledger = openLedger(join(dir, 'ledger.db'))
  controller = new AbortController()
})

afterEach(async () => {
  controller.abort()
  ledger.close()
  await rm(dir, {recursive: true, force: true})
})

/** A NixOS-like profile: generations `numbers` (each with bin/switch-to-configuration), `system` → the last. */
async function fakeProfile(numbers: number[]): Promise<string> {
  const profiles = join(dir, 'profiles')
  await mkdir(profiles, {recursive: true})
  for (const n of numbers) {
    const store = join(dir, 'store', `nixos-system-${n}`)
    await mkdir(join(store, 'bin'), {recursive: true})
    await writeFile(join(store, 'bin', 'switch-to-configuration'), '#!/bin/sh\n')
    await chmod(join(store, 'bin', 'switch-to-configuration'), 0o755)
    await symlink(store, join(profiles, `system-${n}-link`))
  }
  await symlink(`system-${numbers[numbers.length - 1]}-link`, join(profiles, 'system'))
  return join(profiles, 'system')
}

function safety(overrides: Partial<SafetyDeps> & {gate: Gate; run: Runner}) {
  return createSafetyService({
    ledger,
    log: silentLogger,
    health: async () => HEALTH,
    pendingApprovals: () => 3,
    systemd: async () => true,
    runDir: join(dir, 'run'),
    signal: controller.signal,
    profile: join(dir, 'no-profile', 'system'),
    bootedLink: join(dir, 'booted-system'),
    which: async (binary) => (binary === 'nix-env' ? NIX_ENV : null),
    now: () => NOW,
    panicDelayMs: 0,
    ...overrides,
  })
}

const types = () => ledger.query({limit: 100, order: 'asc'}).map((e) => e.type)
const events = (type: string) => ledger.query({type, limit: 100, order: 'asc'}).map((e) => e.payload as Record<string, unknown>)

describe('safety rollback', () => {
  it('switches to the newest older generation by number, in a transient unit', async () => {
    // Given generations 1, 2, 5 and 8 (3, 4, 6, 7 deleted) with 8 current
    const profile = await fakeProfile([1, 2, 5, 8])
    const gate = fakeGate('allow')
    const runner = fakeRunner()
    const service = safety({gate: gate.gate, run: runner.run, profile})
    // When the operator rolls back
    const answer = await service.rollback({reason: 'bad deploy'}, OPERATOR)
    await service.settle()
    // Then it goes 8 → 5 (not 7) in a transient unit running nix-env then switch-to-configuration
    expect(answer).toEqual({from_generation: 8, to_generation: 5, unit: `osmoda-safety-rollback-${NOW.toString(36)}`})
    expect(runner.calls).toEqual([transientUnitArgv({unit: answer.unit as string, deadlineSecs: 900, command: rollbackCommand({nixEnv: NIX_ENV, profile, generation: 5})})])
    // And the gate was asked with the exact body, and the ledger has start and outcome
    expect(gate.checks).toMatchObject([{operation: 'safety_rollback', method: 'POST', path: '/safety/rollback', body: {reason: 'bad deploy'}, ctx: OPERATOR}])
    expect(types()).toEqual(['safety.rollback_started', 'safety.rolled_back'])
    expect(events('safety.rolled_back')[0]).toMatchObject({from_generation: 8, to_generation: 5, ok: true})
  })

  it('runs the rollback directly where systemd is not PID 1', async () => {
    const profile = await fakeProfile([3, 4])
    const runner = fakeRunner()
    const service = safety({gate: fakeGate('allow').gate, run: runner.run, profile, systemd: async () => false})
    const answer = await service.rollback({}, OPERATOR)
    await service.settle()
    expect(answer.unit).toBeNull()
    expect(runner.calls).toEqual([rollbackCommand({nixEnv: NIX_ENV, profile, generation: 3})])
  })

  it('records a failed activation as rolled_back ok=false', async () => {
    const profile = await fakeProfile([1, 2])
    const service = safety({gate: fakeGate('allow').gate, run: fakeRunner(1).run, profile})
    await service.rollback({}, OPERATOR)
    await service.settle()
    expect(events('safety.rolled_back')[0]).toMatchObject({ok: false, exit_code: 1, stderr_tail: 'boom'})
  })

  it('records no outcome when agentd stops while the transient unit still runs', async () => {
    // Given agentd is stopping (systemd-run --wait is interrupted) while the unit carries on
    const profile = await fakeProfile([1, 2])
    const service = safety({gate: fakeGate('allow').gate, run: fakeRunner(null, true).run, profile})
    await service.rollback({}, OPERATOR)
    await service.settle()
    // Then only the start is recorded: the outcome is not known to be a failure
    expect(types()).toEqual(['safety.rollback_started'])
  })

  it('records an interrupted direct rollback as failed', async () => {
    const profile = await fakeProfile([1, 2])
    const service = safety({gate: fakeGate('allow').gate, run: fakeRunner(null, true).run, profile, systemd: async () => false})
    await service.rollback({}, OPERATOR)
    await service.settle()
    expect(events('safety.rolled_back')[0]).toMatchObject({ok: false, aborted: true, unit: null})
  })

  it('waits for approval when the agent asks, running and recording nothing', async () => {
    const profile = await fakeProfile([1, 2])
    const gate = fakeGate('require')
    const runner = fakeRunner()
    const service = safety({gate: gate.gate, run: runner.run, profile})
    // When the agent calls without an approval
    const error = await caught(service.rollback({reason: 'r'}, AGENT))
    // Then 412 APPROVAL_REQUIRED with a summary naming both generations, and nothing happened
    expect(error.code).toBe('APPROVAL_REQUIRED')
    expect((error.details as {summary: string}).summary).toBe('Roll NixOS back from generation 2 to 1: r')
    expect(runner.calls).toEqual([])
    expect(types()).toEqual([])
    // When it repeats the call with the approval id, the id is passed to the gate but not hashed into the body
    await service.rollback({reason: 'r', approval_id: 'apr_01JDQZ9V7C4Y3M2N1P0Q9R8S7T'}, AGENT)
    await service.settle()
    expect(gate.checks[1]).toMatchObject({body: {reason: 'r'}, approvalId: 'apr_01JDQZ9V7C4Y3M2N1P0Q9R8S7T'})
    expect(runner.calls).toHaveLength(1)
  })

  it('is 503 NIX_UNAVAILABLE without a Nix system profile, before the gate', async () => {
    const gate = fakeGate('require')
    const error = await caught(safety({gate: gate.gate, run: fakeRunner().run}).rollback({}, AGENT))
    expect(error.code).toBe('NIX_UNAVAILABLE')
    expect(error.httpStatus).toBe(503)
    expect(gate.checks).toEqual([])
  })

  it('is 503 NIX_UNAVAILABLE without nix-env', async () => {
    const profile = await fakeProfile([1, 2])
    const error = await caught(safety({gate: fakeGate('allow').gate, run: fakeRunner().run, profile, which: async () => null}).rollback({}, OPERATOR))
    expect(error.code).toBe('NIX_UNAVAILABLE')
  })

  it('is 409 CONFLICT without an older generation', async () => {
    const profile = await fakeProfile([7])
    const error = await caught(safety({gate: fakeGate('allow').gate, run: fakeRunner().run, profile}).rollback({}, OPERATOR))
    expect(error.code).toBe('CONFLICT')
    expect(error.httpStatus).toBe(409)
    expect(error.details).toEqual({state: {current: 7, generations: [7]}})
  })
})

describe('safety panic', () => {
  it('answers first, then stops the units in order, the gateway last, then rolls back', async () => {
    // Given a NixOS-like host with generations 4 and 6
    const profile = await fakeProfile([4, 6])
    const runner = fakeRunner()
    const gate = fakeGate('allow')
    const service = safety({gate: gate.gate, run: runner.run, profile})
    // When the agent panics (approved)
    const answer = await service.panic({rollback: true, reason: 'compromised', approval_id: 'apr_01JDQZ9V7C4Y3M2N1P0Q9R8S7T'}, AGENT)
    // Then the answer comes before anything was stopped
    expect(answer).toEqual({stopping: [...PANIC_UNITS, GATEWAY_UNIT], rollback: true})
    expect(runner.calls).toEqual([])
    await service.settle()
    // And the units stop in order, the gateway in its own later unit, then the rollback to 4
    const stopped = runner.calls.map((argv) => argv.slice(argv.indexOf('--') + 1))
    expect(stopped).toEqual([['systemctl', 'stop', '--', ...PANIC_UNITS], ['systemctl', 'stop', '--', GATEWAY_UNIT], rollbackCommand({nixEnv: NIX_ENV, profile, generation: 4})])
    expect(gate.checks).toMatchObject([{operation: 'safety_panic', path: '/safety/panic', body: {rollback: true, reason: 'compromised'}}])
    expect(types()).toEqual(['safety.panicked', 'safety.rollback_started', 'safety.rolled_back'])
    expect(events('safety.panicked')[0]).toMatchObject({units: [...PANIC_UNITS, GATEWAY_UNIT], rollback: true})
  })

  it('goes through the gate for the agent: without approval nothing stops', async () => {
    const runner = fakeRunner()
    const gate = fakeGate('require')
    const service = safety({gate: gate.gate, run: runner.run})
    const error = await caught(service.panic({rollback: false}, AGENT))
    await service.settle()
    expect(error.code).toBe('APPROVAL_REQUIRED')
    expect(gate.checks).toHaveLength(1)
    expect(runner.calls).toEqual([])
    expect(types()).toEqual([])
  })

  it('still panics when no rollback is possible, and says so', async () => {
    const runner = fakeRunner()
    const service = safety({gate: fakeGate('allow').gate, run: runner.run})
    const answer = await service.panic({rollback: true}, OPERATOR)
    await service.settle()
    expect(answer.rollback).toBe(false)
    expect(runner.calls).toHaveLength(2)
    expect(events('safety.panicked')[0]).toMatchObject({rollback: false, rollback_skipped: 'NIX_UNAVAILABLE'})
  })

  it('stops the gateway even when stopping the others failed', async () => {
    const runner = fakeRunner(1)
    const service = safety({gate: fakeGate('allow').gate, run: runner.run})
    await service.panic({rollback: false}, OPERATOR)
    await service.settle()
    expect(runner.calls[1]?.slice(-1)).toEqual([GATEWAY_UNIT])
  })

  it('is 503 SYSTEMD_UNAVAILABLE without systemd, before the gate', async () => {
    const gate = fakeGate('require')
    const error = await caught(safety({gate: gate.gate, run: fakeRunner().run, systemd: async () => false}).panic({rollback: true}, AGENT))
    expect(error.code).toBe('SYSTEMD_UNAVAILABLE')
    expect(gate.checks).toEqual([])
  })
})

describe('safety restart', () => {
  it('schedules the gateway restart without the gate and records it', async () => {
    const runner = fakeRunner()
    const gate = fakeGate('require')
    const answer = await safety({gate: gate.gate, run: runner.run}).restart(AGENT)
    expect(answer).toEqual({unit: GATEWAY_UNIT, delay_secs: 2})
    expect(runner.calls[0]).toEqual(expect.arrayContaining(['systemd-run', '--on-active=2', 'restart', GATEWAY_UNIT]))
    expect(gate.checks).toEqual([])
    expect(events('safety.restarted')).toEqual([{unit: GATEWAY_UNIT, delay_secs: 2}])
  })

  it('is 503 SYSTEMD_UNAVAILABLE without systemd', async () => {
    const runner = fakeRunner()
    const error = await caught(safety({gate: fakeGate('allow').gate, run: runner.run, systemd: async () => false}).restart(OPERATOR))
    expect(error.code).toBe('SYSTEMD_UNAVAILABLE')
    expect(runner.calls).toEqual([])
  })

  it('maps a failing systemd-run to UPSTREAM_FAILED and records nothing', async () => {
    const error = await caught(safety({gate: fakeGate('allow').gate, run: fakeRunner(1).run}).restart(OPERATOR))
    expect(error.code).toBe('UPSTREAM_FAILED')
    expect(types()).toEqual([])
  })
})

describe('safety status', () => {
  let server: Server | null = null
  afterEach(async () => {
    if (server) await new Promise<void>((resolve) => server?.close(() => resolve()))
    server = null
  })

  it('combines health, socket-probed services, generations, the ledger and pending approvals', async () => {
    // Given no systemd, agentd's socket answering and the others absent, and generations 2 and 9
    await mkdir(join(dir, 'run'))
    server = createServer().listen(join(dir, 'run', 'agentd.sock'))
    await once(server, 'listening')
    const profile = await fakeProfile([2, 9])
    const service = safety({gate: fakeGate('allow').gate, run: fakeRunner().run, profile, systemd: async () => false})
    // When the status is read
    const status = await service.status()
    // Then every part is there
    expect(status).toMatchObject({
      source: 'agentd',
      agentd: 'reachable',
      health: {status: 'ok', hostname: 'box', cpu_count: 2},
      services_source: 'sockets',
      generation: {current: 9, previous: 2, booted: null},
      ledger: {size: 12, verify_state: 'ok'},
      pending_approvals: 3,
    })
    expect(status.services['osmoda-agentd']).toBe('active')
    expect(status.services['osmoda-gateway']).toBe('inactive')
    expect(Object.keys(status.services)).toHaveLength(10)
  })

  it('has a null generation without Nix', async () => {
    const status = await safety({gate: fakeGate('allow').gate, run: fakeRunner().run, systemd: async () => false}).status()
    expect(status.generation).toBeNull()
  })
})
