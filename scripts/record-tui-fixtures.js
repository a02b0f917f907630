// Records the TUI's test fixtures from a real stack: starts the daemons in a temp dir, acts through
// the CLI and the agent token, then writes what the TUI reads (ledger events, /health of each
// daemon, pending approvals, switches, watchers) to test/fixtures/tui/*.json.
// Usage: npm run build && node scripts/record-tui-fixtures.js
import {execFileSync, spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {createClient} from '../dist/lib/rpc/client.js'
import {agentdApi} from '../dist/daemons/agentd/api.js'
import {watchApi} from '../dist/daemons/watch/api.js'
import {commonApi} from '../dist/lib/daemon/common-api.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BIN = join(ROOT, 'bin', 'run.js')
const OUT = join(ROOT, 'test', 'fixtures', 'tui')
const base = mkdtempSync(join(tmpdir(), 'osmoda-tui-rec-'))
const env = {...process.env, OSMODA_RUN_DIR: join(base, 'run'), OSMODA_STATE_DIR: join(base, 'state'), OSMODA_CONFIG_DIR: join(base, 'config'), OSMODA_EGRESS_LISTEN_PORT: '0'}
delete env.OSMODA_TOKEN
delete env.OSMODA_TOKEN_FILE
const cli = (...args) => execFileSync(process.execPath, [BIN, ...args], {env, encoding: 'utf8'})
const token = (role) => readFileSync(join(base, 'state', 'tokens', role), 'utf8').trim()
const client = (daemon, api, role = 'operator', headers = {}) => createClient(daemon, api, {socketPath: join(base, 'run', `${daemon}.sock`), token: token(role), headers})
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const children = []
try {
  cli('init', '--json')
  for (const name of ['agentd', 'keyd', 'watch', 'routines', 'egress']) {
    children.push(spawn(process.execPath, [BIN, 'daemon', name], {env, stdio: 'ignore'}))
    for (let i = 0; i < 200; i++) {
      if (await client(name, commonApi).health().then(() => true, () => false)) break
      await sleep(50)
    }
  }
  const agentd = client('agentd', agentdApi)
  const agent = client('agentd', agentdApi, 'agent', {'x-osmoda-agent-id': 'ops'})
  const watch = client('watch', watchApi)
  cli('memory', 'store', '--summary', 'nginx needs 2 workers', '--detail', 'observed 502s under load', '--category', 'ops', '--json')
  const inc = JSON.parse(cli('incident', 'create', '--name', 'nginx 502 on /api', '--severity', 'high', '--json')).result
  cli('incident', 'step', inc.id, '--action', 'restarted nginx', '--result', 'ok', '--json')
  await agentd.toolCalls({tool: 'memory_store', toolset: 'agentd', args_sha256: 'a'.repeat(64), outcome: 'ok', duration_ms: 12})
  const pending = await agent.approvalRequest({reason: 'rotate nginx logs', command: 'logrotate -f /etc/logrotate.d/nginx'})
  const denied = await agent.approvalRequest({reason: 'wipe tmp', command: 'rm -rf /tmp/cache'})
  await agentd.approvalDeny({id: denied.id, note: 'not now'})
  await agent.approvalRequest({reason: 'restart postgres after config change', tool: 'shell_exec', arguments: {command: 'systemctl restart postgresql', mode: 'host'}})
  await watch.watcherAdd({name: 'api-port', check: {type: 'tcp_port', host: '127.0.0.1', port: 1}, interval_secs: 5, actions: [{type: 'notify', message: 'api port down', severity: 'warning'}]})
  await watch.switchBegin({plan: 'enable gzip in nginx', target: {type: 'commands', apply: [{command: '/bin/true', args: []}], revert: [{command: '/bin/true', args: []}]}, ttl_secs: 600, check_interval_secs: 1, grace_secs: 0, baseline_checks: false})
  await sleep(7000)
  const events = (await agentd.eventsLog({after: 0, order: 'asc', limit: 1000})).events
  const health = {}
  for (const name of ['agentd', 'keyd', 'watch', 'routines', 'egress']) health[name] = await client(name, commonApi).health()
  writeFileSync(join(OUT, 'ledger-events.json'), `${JSON.stringify(events, null, 1)}\n`)
  writeFileSync(join(OUT, 'health.json'), `${JSON.stringify(health, null, 1)}\n`)
  writeFileSync(join(OUT, 'approvals-pending.json'), `${JSON.stringify((await agentd.approvalPending()).approvals, null, 1)}\n`)
  writeFileSync(join(OUT, 'approval-detail.json'), `${JSON.stringify(await agentd.approvalGet({id: pending.id}), null, 1)}\n`)
  writeFileSync(join(OUT, 'switches.json'), `${JSON.stringify((await watch.switchList({})).switches, null, 1)}\n`)
  writeFileSync(join(OUT, 'watchers.json'), `${JSON.stringify((await watch.watcherList({})).watchers, null, 1)}\n`)
  console.log(`recorded ${events.length} events`)
} finally {
  for (const child of children) child.kill('SIGTERM')
  await sleep(1500)
  rmSync(base, {recursive: true, force: true})
}
