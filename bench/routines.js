// Event-trigger latency of the routines daemon: from a ledger append to the start of the routine
// run it triggers (agentd's follow stream → routines → run recorded), with real daemons.
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {routinesApi} from '../dist/daemons/routines/api.js'
import {openLedger} from '../dist/lib/ledger/ledger.js'
import {createClient} from '../dist/lib/rpc/client.js'
import {DAEMON_NODE_FLAGS} from '../dist/lib/supervisor.js'
import {percentile, report, round, until} from './lib.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BIN = join(ROOT, 'bin', 'run.js')
const EVENTS = 50

/** Appends EVENTS matching events one at a time and measures ledger ts → run started_at. */
export async function benchRoutines() {
  const base = mkdtempSync(join(tmpdir(), 'osmoda-bench-routines-'))
  const env = {...process.env, OSMODA_RUN_DIR: join(base, 'run'), OSMODA_STATE_DIR: join(base, 'state'), OSMODA_CONFIG_DIR: join(base, 'config')}
  delete env.OSMODA_TOKEN
  spawnSync(process.execPath, [BIN, 'init'], {env})
  const daemons = []
  const start = async (name) => {
    const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, BIN, 'daemon', name], {env, stdio: 'ignore'})
    daemons.push(child)
    const client = createClient(name, routinesApi, {socketPath: join(base, 'run', `${name}.sock`), token: readFileSync(join(base, 'state', 'tokens', 'operator'), 'utf8').trim()})
    await until(() => client.health().then(() => true))
    return client
  }
  try {
    ;(await start('agentd')).close()
    const routines = await start('routines')
    const routine = await routines.routineAdd({name: 'bench', trigger: {type: 'event', event_type: 'bench.ping', debounce_secs: 0}, action: {type: 'command', command: '/bin/true'}})
    const ledger = openLedger(join(base, 'state', 'ledger.db'))
    const latencies = []
    for (let i = 0; i < EVENTS; i++) {
      const event = ledger.append({type: 'bench.ping', actor: 'bench', payload: {i}})
      const run = await until(async () => (await routines.routineHistory({routine_id: routine.id, limit: 5})).runs.find((r) => r.event_seq === event.seq))
      latencies.push(Date.parse(run.started_at) - Date.parse(event.ts))
      await until(async () => (await routines.routineGet({id: routine.id})).last_status !== 'running')
    }
    ledger.close()
    routines.close()
    latencies.sort((a, b) => a - b)
    report({bench: 'routines_event_trigger_latency', events: EVENTS, p50_ms: round(percentile(latencies, 50)), p95_ms: round(percentile(latencies, 95)), max_ms: round(latencies.at(-1))})
  } finally {
    for (const child of daemons.reverse()) child.kill('SIGTERM')
    await new Promise((resolve) => setTimeout(resolve, 500))
    rmSync(base, {recursive: true, force: true})
  }
}
