// SafeSwitch figure: time from the failing health check to a completed rollback, on real Nix store
// paths and a scratch profile/link (the same setup as test/watch-switch.test.ts), agentd and watch
// running as real daemons.
import {execFileSync, spawn, spawnSync} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {openLedger} from '../dist/lib/ledger/ledger.js'
import {percentile, report, round, until} from './lib.js'

const BIN = join(fileURLToPath(new URL('..', import.meta.url)), 'bin', 'run.js')
const NIX = ['--option', 'substituters', '']
const RUNS = 5

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const {port} = server.address()
      server.close(() => resolve(port))
    })
  })

/** A store path whose switch-to-configuration moves the link and starts (serve) or stops the service. */
function system(dir, link, port, serve, n) {
  const pid = join(dir, 'service.pid')
  // The pid file appears once the port listens: activation returns with the service up, as systemd's would.
  const js = `require('http').createServer((q,r)=>r.end('ok')).listen(${port},'127.0.0.1',()=>require('fs').writeFileSync('${pid}', String(process.pid)))`
  const start = `if [ -f ${pid} ] && kill -0 "$(cat ${pid})" 2>/dev/null; then :; else setsid -f ${process.execPath} -e "${js}" </dev/null >/dev/null 2>&1; for i in $(seq 1 50); do [ -f ${pid} ] && break; sleep 0.05; done; fi`
  const stop = `if [ -f ${pid} ]; then kill "$(cat ${pid})" 2>/dev/null || true; rm -f ${pid}; fi`
  const src = join(dir, `src-${n}`, 'system')
  mkdirSync(join(src, 'bin'), {recursive: true})
  writeFileSync(join(src, 'bin', 'switch-to-configuration'), `#!/bin/sh\nself=$(dirname "$(dirname "$(readlink -f "$0")")")\n[ "$1" = test ] || exit 0\nln -sfn "$self" ${link}.new && mv -T ${link}.new ${link}\n${serve ? start : stop}\n`)
  chmodSync(join(src, 'bin', 'switch-to-configuration'), 0o755)
  writeFileSync(join(src, 'tag'), `${serve} ${n} ${dir}\n`)
  return execFileSync('nix-store', [...NIX, '--add', src], {encoding: 'utf8'}).trim()
}

/** Median ms from `switch.check_failed` to `switch.rolled_back` over RUNS failing switches (threshold 1, grace 0). */
export async function benchSwitch() {
  if (spawnSync('sh', ['-c', 'command -v nix-store']).status !== 0) {
    report({figure: 'switch_failing_check_to_rollback_ms', skipped: 'nix-store is not installed'})
    return
  }
  const base = mkdtempSync(join(tmpdir(), 'osmoda-bench-switch-'))
  const host = join(base, 'host')
  mkdirSync(join(host, 'profiles'), {recursive: true})
  const link = join(host, 'current-system')
  const port = await freePort()
  const env = {...process.env, OSMODA_RUN_DIR: join(base, 'run'), OSMODA_STATE_DIR: join(base, 'state'), OSMODA_CONFIG_DIR: join(base, 'config')}
  delete env.OSMODA_TOKEN
  const watchEnv = {...env, OSMODA_WATCH_SYSTEM_PROFILE: join(host, 'profiles', 'system'), OSMODA_WATCH_CURRENT_SYSTEM_LINK: link}
  const children = []
  try {
    const good = system(host, link, port, true, 0)
    execFileSync('nix-env', [...NIX, '-p', join(host, 'profiles', 'system'), '--set', good])
    execFileSync(join(good, 'bin', 'switch-to-configuration'), ['test'])
    spawnSync(process.execPath, [BIN, 'init'], {env})
    children.push(spawn(process.execPath, [BIN, 'daemon', 'agentd'], {env, stdio: 'ignore'}))
    children.push(spawn(process.execPath, [BIN, 'daemon', 'watch'], {env: watchEnv, stdio: 'ignore'}))
    await until(() => spawnSync(process.execPath, [BIN, 'switch', 'list', '--json'], {env}).status === 0, {ms: 30_000, everyMs: 50})
    const check = JSON.stringify({type: 'http_get', url: `http://127.0.0.1:${port}/`})
    const times = []
    for (let i = 1; i <= RUNS; i++) {
      const broken = system(host, link, port, false, i)
      const args = ['switch', 'begin', '--plan', 'bench', '--store-path', broken, '--grace', '0', '--interval', '1', '--threshold', '1', '--check', check, '--wait', '--json']
      const run = spawnSync(process.execPath, [BIN, ...args], {env, encoding: 'utf8'})
      const id = JSON.parse(run.stdout).error?.details?.switch?.id
      if (!id) throw new Error(`switch did not roll back: ${run.stdout}${run.stderr}`)
      const ledger = openLedger(join(base, 'state', 'ledger.db'), {readonly: true})
      const events = ledger.query({type: 'switch.*', limit: 1000, order: 'asc'}).filter((e) => e.payload.switch_id === id)
      ledger.close()
      const at = (type) => {
        const event = events.find((e) => e.type === type)
        if (!event) throw new Error(`no ${type} for ${id}: ${events.map((e) => `${e.type} ${JSON.stringify(e.payload)}`).join("; ")}`)
        return Date.parse(event.ts)
      }
      times.push(at('switch.rolled_back') - at('switch.check_failed'))
    }
    times.sort((a, b) => a - b)
    report({figure: 'switch_failing_check_to_rollback_ms', median_ms: round(percentile(times, 50)), min_ms: round(times[0]), max_ms: round(times.at(-1)), runs: RUNS, note: 'threshold 1: check_failed to rolled_back (re-activation of the recorded system, link verified, checks run once)'})
  } finally {
    for (const child of children) child.kill('SIGTERM')
    await new Promise((resolve) => setTimeout(resolve, 500))
    try {
      process.kill(Number(readFileSync(join(host, 'service.pid'), 'utf8')))
    } catch {
      // Not running.
    }
    rmSync(base, {recursive: true, force: true})
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchSwitch()
