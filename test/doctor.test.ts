import Database from 'better-sqlite3'
import {chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {AVAILABLE_DAEMONS} from '../src/daemons/registry.js'
import {expectedSocketMode} from '../src/lib/doctor/daemon-checks.js'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'

interface Check {
  name: string
  status: 'ok' | 'warn' | 'fail'
  detail: string
  fix: string | null
}

let env: TestEnv
const daemons = new Map<string, DaemonProcess>()

beforeAll(async () => {
  env = await testEnv()
  for (const name of AVAILABLE_DAEMONS) daemons.set(name, await env.start(name))
}, 90_000)

afterAll(async () => {
  for (const daemon of daemons.values()) await daemon.stop()
  await env?.cleanup()
})

/** Runs `osmoda doctor --json` and returns its exit code and checks by name. */
async function doctor(args: string[] = [], extraEnv: Record<string, string> = {}) {
  const res = await env.cli(['doctor', '--json', ...args], {env: extraEnv, timeoutMs: 60_000})
  const body = JSON.parse(res.stdout) as {result?: {checks: Check[]}; error?: {code: string; details: {checks: Check[]}}}
  const checks = body.result?.checks ?? body.error?.details.checks ?? []
  return {exitCode: res.exitCode, body, stderr: res.stderr, check: (name: string) => checks.find((c) => c.name === name), checks}
}

describe('osmoda doctor', () => {
  it('reports every check ok on a healthy stack (systemd not PID 1 is only a warning)', async () => {
    // Given the whole stack running in a fresh install with some ledger history
    await env.client('agentd', agentdApi).ledgerCheckpointNow()
    // When doctor runs
    const res = await doctor()
    // Then it exits 0 and nothing fails
    expect(res.exitCode, res.stderr + JSON.stringify(res.checks.filter((c) => c.status !== 'ok'))).toBe(0)
    for (const name of ['node', 'dir:run', 'dir:state', 'dir:config', 'dir:tokens', 'token:operator', 'token:agent', 'bubblewrap', 'nix', 'disk', 'ledger', ...AVAILABLE_DAEMONS.map((d) => `daemon:${d}`)]) {
      expect(res.check(name), name).toMatchObject({status: 'ok', fix: null})
    }
    expect(res.check('ledger')?.detail).toMatch(/chain intact; matches signed checkpoint \d+/)
    expect(res.check('systemd')?.status).toMatch(/^(ok|warn)$/)
    if (res.check('systemd')?.status === 'warn') expect(res.check('systemd')?.detail).toMatch(/not PID 1.*osmoda up supervises/)
    // And the human form lists each check and the summary line
    const human = await env.cli(['doctor'], {timeoutMs: 60_000})
    expect(human.exitCode).toBe(0)
    expect(human.stdout).toMatch(/^ok {4}token:operator/m)
    expect(human.stdout).toMatch(/\d+ ok, \d+ warning\(s\), 0 failed/)
  }, 60_000)

  it('fails a missing token, a token with the wrong mode and a .sha256 that does not match, each with a fix', async () => {
    const agentToken = join(env.paths.tokensDir, 'agent')
    const operatorToken = join(env.paths.tokensDir, 'operator')
    const saved = readFileSync(agentToken)
    const savedHash = readFileSync(`${operatorToken}.sha256`)
    try {
      // Given the agent token removed, the operator token world-readable
      rmSync(agentToken)
      chmodSync(operatorToken, 0o644)
      // When doctor runs
      const broken = await doctor()
      // Then both fail with a fix, and the exit code is 1 with DOCTOR_FAILED
      expect(broken.exitCode).toBe(1)
      expect(broken.body.error?.code).toBe('DOCTOR_FAILED')
      expect(broken.check('token:agent')).toMatchObject({status: 'fail', detail: expect.stringMatching(/missing/), fix: expect.stringMatching(/osmoda init/)})
      expect(broken.check('token:operator')).toMatchObject({status: 'fail', detail: expect.stringMatching(/mode 0644, expected 0600/), fix: expect.stringMatching(/chmod 0600/)})
      // And --fix repairs the mode (but never invents a token)
      const fixed = await doctor(['--fix'])
      expect(fixed.check('token:operator')?.status).toBe('ok')
      expect(fixed.check('token:agent')?.status).toBe('fail')
      // When the operator .sha256 no longer matches its token
      writeFileSync(agentToken, saved, {mode: 0o640})
      writeFileSync(`${operatorToken}.sha256`, `${'0'.repeat(64)}\n`)
      const mismatch = await doctor()
      // Then the token check fails and names the fix
      expect(mismatch.check('token:agent')?.status).toBe('ok')
      expect(mismatch.check('token:operator')).toMatchObject({status: 'fail', detail: expect.stringMatching(/does not match/), fix: expect.stringMatching(/osmoda init/)})
    } finally {
      writeFileSync(agentToken, saved, {mode: 0o640})
      chmodSync(agentToken, 0o640)
      chmodSync(operatorToken, 0o600)
      writeFileSync(`${operatorToken}.sha256`, savedHash)
    }
  }, 90_000)

  it('fails a directory with the wrong mode, warns about a socket with the wrong mode, and --fix repairs both', async () => {
    // Given the state dir and agentd's socket opened to everyone
    chmodSync(env.paths.stateDir, 0o777)
    chmodSync(env.paths.socket('agentd'), 0o666)
    // When doctor runs, then dir:state fails with a chmod fix
    const broken = await doctor()
    expect(broken.check('dir:state')).toMatchObject({status: 'fail', detail: expect.stringMatching(/mode 0777/), fix: expect.stringMatching(/chmod 07\d\d/)})
    // (0660 where the osmoda group exists, else owner-only 0600: src/lib/rpc/socket-access.ts)
    const want = expectedSocketMode().toString(8).padStart(4, '0')
    expect(broken.check('daemon:agentd')).toMatchObject({status: 'warn', detail: expect.stringContaining(`mode 0666, expected ${want}`), fix: expect.stringContaining(`chmod ${want}`)})
    // When doctor --fix runs, then it says what it changed and the check passes
    const fixed = await doctor(['--fix'])
    expect(fixed.check('dir:state')?.status).toBe('ok')
    expect(fixed.check('daemon:agentd')?.status).toBe('ok')
    expect(JSON.stringify(fixed.body)).toMatch(/chmod 07\d\d .*state \(was 0777\)/)
  }, 60_000)

  it('fails without bubblewrap and nix on PATH, naming how to install them', async () => {
    // Given a PATH with neither bwrap nor nix-env
    const empty = mkdtempSync(join(tmpdir(), 'osmoda-empty-path-'))
    try {
      const res = await doctor([], {PATH: empty})
      // Then both checks fail with an install hint, and the exit code is 1
      expect(res.exitCode).toBe(1)
      expect(res.check('bubblewrap')).toMatchObject({status: 'fail', detail: expect.stringMatching(/not on PATH/), fix: expect.stringMatching(/bubblewrap/)})
      expect(res.check('nix')).toMatchObject({status: 'fail', detail: expect.stringMatching(/not on PATH/), fix: expect.stringMatching(/nix-bin/)})
    } finally {
      rmSync(empty, {recursive: true, force: true})
    }
  }, 60_000)

  it('fails when free disk space is below the threshold', async () => {
    const res = await doctor(['--disk-fail-pct', '100'])
    expect(res.check('disk')).toMatchObject({status: 'fail', detail: expect.stringMatching(/below 100 %/), fix: expect.stringMatching(/free space/)})
    const warned = await doctor(['--disk-warn-pct', '100', '--disk-fail-pct', '0', '--daemons', 'agentd'])
    expect(warned.check('disk')?.status).toBe('warn')
  }, 60_000)

  it('fails a daemon that is down and one whose socket is stale', async () => {
    // Given watch stopped cleanly and routines killed (its socket left behind)
    await daemons.get('watch')?.stopClean()
    daemons.delete('watch')
    await daemons.get('routines')?.stop('SIGKILL')
    daemons.delete('routines')
    // When doctor runs
    const res = await doctor()
    // Then both daemons fail, each with what to do
    expect(res.exitCode).toBe(1)
    expect(res.check('daemon:watch')).toMatchObject({status: 'fail', detail: expect.stringMatching(/no socket .* not running/), fix: expect.stringMatching(/osmoda up/)})
    expect(res.check('daemon:routines')).toMatchObject({status: 'fail', detail: expect.stringMatching(/stale socket/), fix: expect.stringMatching(/osmoda up/)})
    expect(res.check('daemon:agentd')?.status).toBe('ok')
    // And --daemons narrows what must run
    const narrowed = await doctor(['--daemons', 'agentd,keyd'])
    expect(narrowed.check('daemon:watch')).toBeUndefined()
    expect(narrowed.check('daemon:agentd')?.status).toBe('ok')
    expect((await env.cli(['doctor', '--daemons', 'nosuch'])).exitCode).toBe(2)
  }, 60_000)

  it('fails a tampered ledger with the first bad seq', async () => {
    // Given agentd stopped and one payload rewritten behind the hash chain's back
    await daemons.get('agentd')?.stopClean()
    daemons.delete('agentd')
    const db = new Database(env.paths.ledgerDb)
    for (const {name} of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all() as {name: string}[]) db.exec(`DROP TRIGGER "${name}"`)
    db.prepare('UPDATE events SET payload = ? WHERE seq = 2').run('{"forged":true}')
    db.close()
    // When doctor runs
    const res = await doctor(['--daemons', 'keyd'])
    // Then the ledger check fails at seq 2 and says how to proceed
    expect(res.exitCode).toBe(1)
    expect(res.check('ledger')).toMatchObject({status: 'fail', detail: expect.stringMatching(/first bad seq 2 \(hash_mismatch/), fix: expect.stringMatching(/verify-ledger/)})
  }, 60_000)
})
