import {mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {groupMembers, processesMatching, recordingGate, snapshotTree} from '../../../../test/helpers/exec-probes.js'
import {requireTool} from '../../../../test/helpers/system-tool.js'
import {migrate, openDatabase, type Db} from '../../../lib/db/open.js'
import type {OsmodaError} from '../../../lib/errors.js'
import {openLedger, type Ledger} from '../../../lib/ledger/ledger.js'
import {pathsFrom} from '../../../lib/paths.js'
import {expandStatePath, HandsConfig} from '../hands-config.js'
import {AGENTD_MIGRATIONS} from '../store.js'
import {ShellExecInput} from './api.js'
import {createExecRateLimiter} from './rate-limit.js'
import {probeSandbox, type SandboxProbe} from './sandbox.js'
import {createExecService, type ExecService, type ExecSettings} from './service.js'

const bwrap = requireTool('bwrap', 'apt-get install bubblewrap')

let dir: string
let db: Db
let ledger: Ledger
// Host dirs the commands try to change: one under /var/tmp (the sandbox sees it read-only) and one
// under /tmp (the sandbox has its own empty /tmp instead).
let varDir: string
let tmpDir: string
// osmoda's own dirs, outside /tmp so that only the masks can hide them.
let osmoda: string
let probe: Promise<SandboxProbe>

const AGENT = {role: 'agent' as const, actor: 'agent:ops', agentId: 'ops'}
const OPERATOR = {role: 'operator' as const, actor: 'operator:root', agentId: null}

function settings(overrides: Partial<ExecSettings> = {}): ExecSettings {
  return {...HandsConfig.exec.parse({}), rateLimit: {calls: 100_000, windowSecs: 60}, ...overrides}
}

function service(gate = recordingGate('require'), exec: Partial<ExecSettings> = {}): ExecService {
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
async function call(exec: ExecService, input: Record<string, unknown>, ctx: typeof AGENT | typeof OPERATOR = AGENT) {
  const parsed = ShellExecInput.safeParse(input)
  if (!parsed.success) return {code: 'VALIDATION_FAILED' as string, result: null}
  try {
    return {code: 'OK', result: await exec.shellExec(parsed.data, {...ctx, signal: new AbortController().signal})}
  } catch (error) {
    return {code: (error as OsmodaError).code, result: null, error: error as OsmodaError}
  }
}

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

interface Attempt {
  name: string
  input: Record<string, unknown>
}

/** Ways an agent might try to change the host through shell_exec; each genuinely tries to write M or destroy V. */
function attempts(D: string, T: string): Attempt[] {
  const M = join(D, 'marker')
  const V = join(D, 'victim')
  const q = JSON.stringify
  return [
    {name: 'plain touch', input: {command: `touch ${M}`}},
    {name: 'argv touch', input: {argv: ['touch', M]}},
    {name: '; separator', input: {command: `true; touch ${M}`}},
    {name: '&&', input: {command: `true && touch ${M}`}},
    {name: '||', input: {command: `false || touch ${M}`}},
    {name: '| into tee', input: {command: `echo pwned | tee ${M}`}},
    {name: '> redirection', input: {command: `echo pwned > ${M}`}},
    {name: '$() substitution', input: {command: `echo $(touch ${M})`}},
    {name: 'backticks', input: {command: `echo \`touch ${M}\``}},
    {name: 'newline', input: {command: `true\ntouch ${M}`}},
    {name: 'sh -c in command', input: {command: `sh -c 'echo pwned > ${M}'`}},
    {name: 'bash -c as argv', input: {argv: ['bash', '-c', `echo pwned > ${M}`]}},
    {name: 'shell: true redirection', input: {command: `echo pwned > ${M}`, shell: true}},
    {name: 'shell: true rm', input: {command: `rm -f ${V}`, shell: true}},
    {name: 'env touch', input: {command: `env touch ${M}`}},
    {name: 'env -i', input: {argv: ['env', '-i', 'PATH=/usr/bin:/bin', 'touch', M]}},
    {name: 'env rm', input: {command: `env rm -f ${V}`}},
    {name: '/bin/rm', input: {command: `/bin/rm -f ${V}`}},
    {name: '/usr/bin/rm as argv', input: {argv: ['/usr/bin/rm', '-f', V]}},
    {name: 'copy of rm under another name in /tmp', input: {command: `cp /bin/rm /tmp/cleanup && /tmp/cleanup -f ${V}`, shell: true}},
    {name: 'copy of rm into the host dir', input: {command: `cp /bin/rm ${D}/cleanup; ${D}/cleanup -f ${V}`, shell: true}},
    {name: 'symlink to rm', input: {command: `ln -s /bin/rm /tmp/tidy; /tmp/tidy -f ${V}`, shell: true}},
    {name: 'xargs in a pipe', input: {command: `echo ${M} | xargs touch`, shell: true}},
    {name: 'xargs as argv', input: {argv: ['xargs', '-a', '/etc/hostname', '-I{}', 'touch', M]}},
    {name: 'find -exec rm', input: {argv: ['find', D, '-name', 'victim', '-exec', 'rm', '-f', '{}', ';']}},
    {name: 'find -delete', input: {command: `find ${D} -name victim -delete`}},
    {name: 'busybox', input: {command: `busybox touch ${M}`}},
    {name: 'python3 -c', input: {argv: ['python3', '-c', `open(${q(M)}, 'w').write('pwned')`]}},
    {name: 'python3 os.system', input: {argv: ['python3', '-c', `import os; os.system('touch ${M}; rm -f ${V}')`]}},
    {name: 'perl -e', input: {argv: ['perl', '-e', `open(my $f, '>', '${M}') or die "$!"; unlink '${V}'`]}},
    {name: 'node -e', input: {argv: [process.execPath, '-e', `require('fs').writeFileSync(${q(M)}, 'pwned')`]}},
    {name: 'quotes around the program', input: {command: `'tou'"ch" "${M}"`}},
    {name: 'glob without a shell (literal *)', input: {command: `touch ${D}/*`}},
    {name: 'glob with a shell', input: {command: `touch ${D}/*`, shell: true}},
    {name: 'process substitution <()', input: {command: `cat <(touch ${M})`}},
    {name: 'process substitution in bash', input: {argv: ['bash', '-c', `cat <(touch ${M})`]}},
    {name: 'nohup', input: {command: `nohup touch ${M}`}},
    {name: 'timeout', input: {command: `timeout 5 touch ${M}`}},
    {name: 'nice', input: {command: `nice -n 5 touch ${M}`}},
    {name: 'command builtin in a shell', input: {command: `command touch ${M}`, shell: true}},
    {name: 'command as a program', input: {command: `command touch ${M}`}},
    {name: 'setsid', input: {command: `setsid touch ${M}`}},
    {name: 'fullwidth semicolon look-alike', input: {command: `touch ${M}；rm ${V}`}},
    {name: 'fullwidth rm look-alike', input: {command: `ｒｍ -f ${V}`}},
    {name: 'zero-width space in the path', input: {command: `touch ${M}\u200b`}},
    {name: 'very long argv (256 items)', input: {argv: ['touch', M, ...Array.from({length: 254}, (_, i) => `/tmp/f${i}-${'x'.repeat(200)}`)]}},
    {name: 'argv over 256 items', input: {argv: ['touch', M, ...Array.from({length: 300}, (_, i) => `/tmp/f${i}`)]}},
    {name: 'command over 8192 characters', input: {command: `touch ${M} ${'/tmp/x '.repeat(1200)}`}},
    {name: 'NUL byte in command', input: {command: `touch ${M}\0 ${V}`}},
    {name: 'NUL byte in argv', input: {argv: ['touch', `${M}\0x`]}},
    {name: 'NUL byte in cwd', input: {argv: ['touch', 'marker'], cwd: `${D}\0`}},
    {name: 'cwd in the host dir, relative target', input: {argv: ['touch', 'marker'], cwd: D}},
    {name: 'cwd with ..', input: {argv: ['touch', 'marker'], cwd: `${D}/../${basename(D)}`}},
    {name: 'relative cwd', input: {argv: ['touch', 'marker'], cwd: 'var/tmp'}},
    {name: 'cwd through a symlink', input: {argv: ['rm', '-f', 'victim'], cwd: join(D, 'link')}},
    {name: 'cwd is a file', input: {argv: ['touch', 'marker'], cwd: V}},
    {name: 'dd', input: {command: `dd if=/dev/zero of=${M} count=1`}},
    {name: 'tee with empty stdin', input: {command: `tee ${M}`}},
    {name: 'mv', input: {command: `mv ${V} ${M}`}},
    {name: 'sed -i', input: {command: `sed -i s/original/pwned/ ${V}`}},
    {name: 'truncate', input: {command: `truncate -s 0 ${V}`}},
    {name: 'chmod', input: {command: `chmod 000 ${V}`}},
    {name: 'mkdir', input: {command: `mkdir ${M}`}},
    {name: 'remount read-write', input: {command: `mount -o remount,rw / ; mount -o remount,rw ${D} ; touch ${M}`, shell: true}},
    {name: 'unshare a user and mount namespace', input: {argv: ['unshare', '-r', '-m', 'sh', '-c', `mount -o remount,rw ${D}; touch ${M}`]}},
    {name: 'nsenter pid 1', input: {argv: ['nsenter', '-t', '1', '-m', '-p', 'touch', M]}},
    {name: 'host /tmp dir', input: {command: `touch ${T}/marker`}},
    {name: 'host /tmp dir via python3', input: {argv: ['python3', '-c', `open('${T}/marker', 'w').write('x'); import os; os.remove('${T}/victim')`]}},
  ]
}

describe('shell_exec bypass attempts (agent role)', () => {
  // The table needs the paths, which exist only once beforeEach ran: build it from placeholders.
  const table = attempts('@D@', '@T@')

  it('has at least 40 attempts', () => {
    expect(table.length).toBeGreaterThanOrEqual(40)
  })

  const bind = (input: Record<string, unknown>): Record<string, unknown> => JSON.parse(JSON.stringify(input).replaceAll('@D@', varDir).replaceAll('@T@', tmpDir)) as Record<string, unknown>

  it.each(table)('host mode: $name needs an approval and changes nothing', async ({input}) => {
    // Given a gate that requires an approval, and the host dirs as they are
    const gate = recordingGate('require')
    const exec = service(gate)
    const before = {...snapshotTree(varDir), ...snapshotTree(tmpDir)}
    // When the agent sends the attempt in host mode
    const outcome = await call(exec, {...bind(input), mode: 'host'})
    // Then it is refused as bad input (before the gate) or stopped by the gate; nothing ran
    expect(['VALIDATION_FAILED', 'APPROVAL_REQUIRED']).toContain(outcome.code)
    if (outcome.code === 'APPROVAL_REQUIRED') {
      expect(gate.calls).toHaveLength(1)
      expect(gate.calls[0]).toMatchObject({operation: 'shell_exec', method: 'POST', path: '/shell/exec', ctx: {role: 'agent', actor: 'agent:ops'}, body: {mode: 'host'}})
    } else {
      expect(gate.calls).toHaveLength(0)
    }
    expect({...snapshotTree(varDir), ...snapshotTree(tmpDir)}).toEqual(before)
    expect(ledger.query({type: 'exec.*', limit: 10, order: 'asc'})).toEqual([])
  })

  it.skipIf(bwrap.skip).each(table)('sandbox mode: $name cannot change the host', async ({input}) => {
    // Given a gate that would refuse anything (sandbox mode must never ask it), and the host dirs as they are
    const gate = recordingGate('require')
    const exec = service(gate)
    const before = {...snapshotTree(varDir), ...snapshotTree(tmpDir)}
    // When the agent sends the attempt in sandbox mode
    const outcome = await call(exec, {...bind(input), mode: 'sandbox'})
    // Then it is refused as bad input or runs in the sandbox; either way the host is unchanged and the gate was not asked
    expect(['VALIDATION_FAILED', 'OK']).toContain(outcome.code)
    expect(gate.calls).toHaveLength(0)
    expect({...snapshotTree(varDir), ...snapshotTree(tmpDir)}).toEqual(before)
  })
})
