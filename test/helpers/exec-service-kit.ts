// Test wiring for agentd's exec service in one process: real SQLite and ledger, host dirs the
// commands try to change, fake osmoda state and secrets for the masks, and the real sandbox probe.
import {mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, afterEach, beforeAll, beforeEach} from 'vitest'
import {recordingGate} from './exec-probes.js'
import {requireTool} from './system-tool.js'
import {migrate, openDatabase, type Db} from '../../src/lib/db/open.js'
import type {OsmodaError} from '../../src/lib/errors.js'
import {openLedger, type Ledger} from '../../src/lib/ledger/ledger.js'
import {pathsFrom} from '../../src/lib/paths.js'
import type {Gate} from '../../src/daemons/agentd/approvals/types.js'
import {expandStatePath, HandsConfig} from '../../src/daemons/agentd/hands-config.js'
import {AGENTD_MIGRATIONS} from '../../src/daemons/agentd/store.js'
import {ShellExecInput} from '../../src/daemons/agentd/exec/api.js'
import {createExecRateLimiter} from '../../src/daemons/agentd/exec/rate-limit.js'
import {probeSandbox, type SandboxProbe} from '../../src/daemons/agentd/exec/sandbox.js'
import {createExecService, type ExecService, type ExecSettings} from '../../src/daemons/agentd/exec/service.js'

export const bwrap = requireTool('bwrap', 'apt-get install bubblewrap')

export let dir: string
export let db: Db
export let ledger: Ledger
// Host dirs the commands try to change: one under /var/tmp (the sandbox sees it read-only) and one
// under /tmp (the sandbox has its own empty /tmp instead).
export let varDir: string
export let tmpDir: string
// osmoda's own dirs, outside /tmp so that only the masks can hide them.
export let osmoda: string
export let probe: Promise<SandboxProbe>

export const AGENT = {role: 'agent' as const, actor: 'agent:ops', agentId: 'ops'}
export const OPERATOR = {role: 'operator' as const, actor: 'operator:root', agentId: null}

export function settings(overrides: Partial<ExecSettings> = {}): ExecSettings {
  return {...HandsConfig.exec.parse({}), rateLimit: {calls: 100_000, windowSecs: 60}, ...overrides}
}

export function service(gate: Gate = recordingGate('require'), exec: Partial<ExecSettings> = {}): ExecService {
  const paths = pathsFrom({runDir: join(osmoda, 'run'), stateDir: join(osmoda, 'state'), configDir: join(osmoda, 'config')})
  const current = settings(exec)
  return createExecService({
    gate,
    ledger,
    rate: createExecRateLimiter(db),
    settings: () => current,
    maskPatterns: () => [...current.maskedPaths.map((p) => expandStatePath(p, paths)), paths.runDir, paths.stateDir, join(paths.configDir, 'secrets')],
    probeSandbox: () => probe,
    systemd: () => Promise.resolve(false),
  })
}

/** Runs one request the way the route does: schema first, then the service. */
export async function call(exec: ExecService, input: Record<string, unknown>, ctx: typeof AGENT | typeof OPERATOR = AGENT) {
  const parsed = ShellExecInput.safeParse(input)
  if (!parsed.success) return {code: 'VALIDATION_FAILED' as string, result: null}
  try {
    return {code: 'OK', result: await exec.shellExec(parsed.data, {...ctx, signal: new AbortController().signal})}
  } catch (error) {
    return {code: (error as OsmodaError).code, result: null, error: error as OsmodaError}
  }
}

/** Replaces the sandbox probe (restore it with setProbe(probeSandbox())). */
export const setProbe = (value: Promise<SandboxProbe>) => {
  probe = value
}

/** Registers the hooks: one sandbox probe for the file; per test a fresh agentd.db, ledger, host dirs and fake osmoda dirs. */
export function useExecService(): void {
  beforeAll(() => {
    probe = probeSandbox()
  })

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'osmoda-exec-db-'))
    db = openDatabase(join(dir, 'agentd.db'))
    migrate(db, AGENTD_MIGRATIONS)
    ledger = openLedger(join(dir, 'ledger.db'))
    varDir = mkdtempSync('/var/tmp/osmoda-exec-host-')
    tmpDir = mkdtempSync(join(tmpdir(), 'osmoda-exec-host-'))
    for (const d of [varDir, tmpDir]) {
      writeFileSync(join(d, 'victim'), 'original')
      symlinkSync(d, join(d, 'link'))
    }
    osmoda = mkdtempSync('/var/tmp/osmoda-exec-osmoda-')
    for (const sub of ['state/tokens', 'state/identity', 'state/memory', 'run', 'config/secrets']) mkdirSync(join(osmoda, sub), {recursive: true})
    writeFileSync(join(osmoda, 'state/tokens/operator'), 'osm_op_SECRETSECRETSECRET')
    writeFileSync(join(osmoda, 'state/tokens/agent'), 'osm_ag_SECRETSECRETSECRET')
    writeFileSync(join(osmoda, 'state/identity/ed25519.key'), 'PRIVATEKEY')
    writeFileSync(join(osmoda, 'state/ledger.db'), 'LEDGER')
    writeFileSync(join(osmoda, 'config/secrets/keyd.kek'), 'KEK')
  })

  afterEach(() => {
    db.close()
    ledger.close()
    for (const d of [dir, varDir, tmpDir, osmoda]) rmSync(d, {recursive: true, force: true})
  })

  afterAll(async () => {
    await probe
  })
}
