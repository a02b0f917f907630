import {mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync} from 'node:fs'
import {createServer, type IncomingHttpHeaders} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {RunOptions, RunResult} from '../../../lib/exec/run.js'
import {createLogger} from '../../../lib/log.js'
import {Action} from '../api.js'
import {RoutinesConfig} from '../config.js'
import {matchesEvent} from '../event-match.js'
import type {ActionContext, Severity} from './context.js'
import {generationCheck, runCommand, transientUnitArgv, type HostDeps} from './host.js'
import {isRefusedAddress, runWebhook} from './webhook.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-routine-actions-'))
})
afterEach(() => rmSync(dir, {recursive: true, force: true}))

function context(overrides: Partial<ActionContext> = {}) {
  const notes: {severity: Severity; title: string; message: string}[] = []
  const memo = new Map<string, string>()
  const ctx: ActionContext = {
    routineId: 'rtn_test',
    routineName: 'test',
    agentd: {} as ActionContext['agentd'],
    config: RoutinesConfig.parse({}),
    signal: new AbortController().signal,
    timeoutMs: 5000,
    now: () => Date.now(),
    log: createLogger({level: 'error'}),
    memo: {get: (k) => memo.get(k) ?? null, set: (k, v) => void memo.set(k, v)},
    headers: () => ({}),
    notify: (severity, title, message) => void notes.push({severity, title, message}),
    ...overrides,
  }
  return {ctx, notes}
}

const ok = (stdout = ''): RunResult => ({argv: [], exitCode: 0, signal: null, stdout, stderr: '', stdoutTruncated: false, stderrTruncated: false, timedOut: false, aborted: false, durationMs: 1})

describe('command actions', () => {
  it('runs as a transient unit under systemd: --wait --pipe, RuntimeMaxSec past the deadline, argv after --', async () => {
    // Given systemd as PID 1 and a recording runner
    const calls: {argv: readonly string[]; options: RunOptions}[] = []
    const host: HostDeps = {root: '/', systemd: () => true, run: async (argv, options) => (calls.push({argv, options}), ok('done\n'))}
    const {ctx} = context({timeoutMs: 30_000})
    // When a command action runs
    const outcome = await runCommand(Action.parse({type: 'command', command: '/usr/bin/df', args: ['-h', '--', '; rm -rf /']}) as never, ctx, host)
    // Then systemd-run wraps the exact argv (never a shell) with the deadline
    const argv = calls[0]?.argv ?? []
    expect(argv.slice(0, 5)).toEqual(['systemd-run', '--quiet', '--collect', '--wait', '--pipe'])
    expect(argv).toContain('RuntimeMaxSec=32')
    expect(argv.slice(argv.indexOf('--') + 1)).toEqual(['/usr/bin/df', '-h', '--', '; rm -rf /'])
    expect(calls[0]?.options.timeoutMs).toBe(30_000)
    expect(outcome).toMatchObject({status: 'ok', output: {via: 'systemd-run', stdout: 'done\n'}})
  })

  it('spawns directly without systemd and reports a non-zero exit as an error', async () => {
    const {ctx} = context()
    const host: HostDeps = {root: '/', systemd: () => false, run: (await import('../../../lib/exec/run.js')).runProcess}
    const outcome = await runCommand(Action.parse({type: 'command', command: '/bin/sh', args: ['-c', 'echo out; exit 3']}) as never, ctx, host)
    expect(outcome).toMatchObject({status: 'error', error: 'exited with 3', output: {via: 'direct', exit_code: 3, stdout: 'out\n'}})
  })

  it('transientUnitArgv sorts and passes the environment explicitly', () => {
    expect(transientUnitArgv(['/bin/true'], {timeoutSecs: 10, env: {TZ: 'UTC', LANG: 'C.UTF-8'}, unit: 'osmoda-routine-x'})).toEqual([
      'systemd-run', '--quiet', '--collect', '--wait', '--pipe', '--unit=osmoda-routine-x', '--service-type=exec', '-p', 'RuntimeMaxSec=12', '--working-directory=/', '--setenv=LANG=C.UTF-8', '--setenv=TZ=UTC', '--', '/bin/true',
    ])
  })
})

describe('generation_check', () => {
  it('says plainly what is unavailable on a host without systemd or a NixOS profile', async () => {
    const {ctx, notes} = context()
    const outcome = await generationCheck(ctx, {root: dir, systemd: () => false, run: async () => ok()})
    expect(outcome.output).toMatchObject({system_state: 'unavailable: systemd is not PID 1', generation: null, nix: expect.stringMatching(/no NixOS system profile/), findings: []})
    expect(notes).toEqual([])
  })

  it('reads the generation, state and failed units, and flags drift and a newer flake.lock', async () => {
    // Given a NixOS-like root: generation 42 at revision aaa, /etc/nixos at bbb, flake.lock edited after the switch
    mkdirSync(join(dir, 'nix/var/nix/profiles'), {recursive: true})
    mkdirSync(join(dir, 'run/current-system'), {recursive: true})
    mkdirSync(join(dir, 'etc/nixos/.git'), {recursive: true})
    symlinkSync('system-42-link', join(dir, 'nix/var/nix/profiles/system'))
    writeFileSync(join(dir, 'run/current-system/configuration-revision'), 'a'.repeat(40))
    writeFileSync(join(dir, 'etc/nixos/flake.lock'), '{}')
    const later = new Date(Date.now() + 3_600_000)
    utimesSync(join(dir, 'etc/nixos/flake.lock'), later, later)
    const host: HostDeps = {
      root: dir,
      systemd: () => true,
      run: async (argv) => {
        if (argv[1] === 'is-system-running') return ok('degraded\n')
        if (argv[1] === 'list-units') return ok('nginx.service loaded failed failed nginx\n')
        if (argv[0] === 'git') return ok(`${'b'.repeat(40)}\n`)
        throw new Error(`unexpected ${argv.join(' ')}`)
      },
    }
    const {ctx, notes} = context()
    const outcome = await generationCheck(ctx, host)
    expect(outcome.output).toMatchObject({system_state: 'degraded', failed_units: ['nginx.service'], generation: 42, configuration_revision: 'a'.repeat(40), etc_nixos_head: 'b'.repeat(40)})
    expect(outcome.output.findings).toEqual(expect.arrayContaining(['system is degraded', 'failed units: nginx.service', expect.stringMatching(/^drift: running aaaaaaaaaaaa, \/etc\/nixos is at bbbbbbbbbbbb/), 'flake.lock is newer than the current generation']))
    expect(notes).toHaveLength(1)
  })
})

describe('webhook actions', () => {
  it('refuses private, loopback and link-local targets unless the config allows the range', () => {
    for (const address of ['127.0.0.1', '10.1.2.3', '192.168.1.1', '169.254.169.254', '::1', 'fd00::1', '::ffff:127.0.0.1']) expect(isRefusedAddress(address, []), address).toBe(true)
    for (const address of ['93.184.216.34', '2606:4700::1111']) expect(isRefusedAddress(address, []), address).toBe(false)
    expect(isRefusedAddress('127.0.0.1', ['127.0.0.0/8'])).toBe(false)
    expect(isRefusedAddress('10.0.0.1', ['127.0.0.0/8'])).toBe(true)
  })

  it('posts to an allowed loopback server with the write-only headers, and refuses it without the allowance', async () => {
    // Given a local HTTP server
    let seen: {method?: string; headers?: IncomingHttpHeaders; body: string} = {body: ''}
    const server = createServer((req, res) => {
      let body = ''
      req.on('data', (c) => (body += c))
      req.on('end', () => {
        seen = {method: req.method, headers: req.headers, body}
        res.writeHead(201).end('created')
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const url = `http://localhost:${(server.address() as AddressInfo).port}/hook`
    try {
      const action = Action.parse({type: 'webhook', url, body: '{"a":1}', headers: {'X-Token': 'secret-value'}}) as never
      // When the config does not allow loopback → refused before any request
      const refused = context({headers: () => ({'X-Token': 'secret-value'})})
      await expect(runWebhook(action, refused.ctx)).rejects.toMatchObject({code: 'POLICY_DENIED'})
      expect(seen.method).toBeUndefined()
      // When it does → the request carries the body and the header
      const allowed = context({config: RoutinesConfig.parse({webhookAllowPrivateCidrs: ['127.0.0.0/8', '::1/128']}), headers: () => ({'X-Token': 'secret-value'})})
      const outcome = await runWebhook(action, allowed.ctx)
      expect(outcome).toMatchObject({status: 'ok', output: {http_status: 201, response: 'created'}})
      expect(JSON.stringify(outcome)).not.toContain('secret-value')
      expect(seen).toMatchObject({method: 'POST', body: '{"a":1}', headers: {'x-token': 'secret-value', 'content-type': 'application/json'}})
    } finally {
      server.close()
    }
  })
})

describe('event matching', () => {
  const trigger = (t: object) => ({type: 'event' as const, debounce_secs: 60, ...t}) as never
  it('matches exact types, domain prefixes, actor and payload values', () => {
    const event = {seq: 1, type: 'switch.rolled_back', actor: 'watch', payload: {host: 'web1', generation: 41}}
    expect(matchesEvent(trigger({event_type: 'switch.rolled_back'}), event)).toBe(true)
    expect(matchesEvent(trigger({event_type: 'switch.*'}), event)).toBe(true)
    expect(matchesEvent(trigger({event_type: 'switchx.*'}), event)).toBe(false)
    expect(matchesEvent(trigger({event_type: 'switch.rolled'}), event)).toBe(false)
    expect(matchesEvent(trigger({event_type: 'switch.*', match: {actor: 'watch', payload: {host: 'web1', generation: 41}}}), event)).toBe(true)
    expect(matchesEvent(trigger({event_type: 'switch.*', match: {actor: 'agentd'}}), event)).toBe(false)
    expect(matchesEvent(trigger({event_type: 'switch.*', match: {payload: {generation: '41'}}}), event)).toBe(false)
    expect(matchesEvent(trigger({event_type: 'switch.*', match: {payload: {missing: null}}}), event)).toBe(false)
  })
})
