// Gateway figures: the SSE event plane fanned out to 100 subscribers. A real gateway daemon runs as
// a child process; events are real heartbeat.received events produced by POST /agents/{id}/heartbeat
// against a running (scripted, silent) chat request; every subscriber must see every event.
import {spawn, spawnSync} from 'node:child_process'
import {chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {Agent, request} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {percentile, report, round} from './lib.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BIN = join(ROOT, 'bin', 'run.js')

function call(socketPath, agent, method, path, token, body) {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body)
    const req = request({socketPath, agent, method, path, headers: {authorization: `Bearer ${token}`, ...(text ? {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)} : {})}}, (res) => {
      let out = ''
      res.on('data', (d) => (out += d))
      res.on('end', () => resolve({status: res.statusCode, body: out ? JSON.parse(out) : null}))
    })
    req.on('error', reject)
    req.end(text)
  })
}

/** One SSE subscriber that checks ids are contiguous and records delivery latency. */
function subscribe(port, token, latencies) {
  const state = {count: 0, last: null, gaps: 0, ready: null, req: null}
  state.ready = new Promise((resolve, reject) => {
    state.req = request({host: '127.0.0.1', port, path: '/events?filter=heartbeat', headers: {authorization: `Bearer ${token}`}}, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`SSE answered ${res.statusCode}`))
      resolve()
      let buffered = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => {
        buffered += chunk
        let end = buffered.indexOf('\n\n')
        while (end >= 0) {
          const block = buffered.slice(0, end)
          buffered = buffered.slice(end + 2)
          end = buffered.indexOf('\n\n')
          if (!block.startsWith('id: ')) continue
          const seq = Number(block.slice(4, block.indexOf('\n')))
          if (state.last !== null && seq !== state.last + 1) state.gaps++
          state.last = seq
          state.count++
          if (latencies && state.count % 10 === 0) {
            const ts = /"ts":"([^"]+)"/.exec(block)?.[1]
            if (ts) latencies.push(Date.now() - Date.parse(ts))
          }
        }
      })
    })
    state.req.on('error', () => {})
    state.req.end()
  })
  return state
}

/** Runs the gateway benchmark. */
export async function benchGateway() {
  const base = mkdtempSync(join(tmpdir(), 'osmoda-bench-gateway-'))
  const env = {...process.env, OSMODA_RUN_DIR: join(base, 'run'), OSMODA_STATE_DIR: join(base, 'state'), OSMODA_CONFIG_DIR: join(base, 'config'), OSMODA_GATEWAY_PORT: '0', OSMODA_LOG_LEVEL: 'warn'}
  delete env.OSMODA_TOKEN
  delete env.OSMODA_TOKEN_FILE
  const wrapper = join(base, 'claude')
  writeFileSync(wrapper, `#!/bin/sh\nSCRIPTED_RUNTIME=hang exec ${process.execPath} ${join(ROOT, 'test', 'fixtures', 'scripted-runtime', 'claude')} "$@"\n`)
  chmodSync(wrapper, 0o755)
  env.OSMODA_GATEWAY_RUNTIMES = JSON.stringify({claudeCodePath: wrapper})
  if (spawnSync(process.execPath, [BIN, 'init', '--json'], {env}).status !== 0) throw new Error('osmoda init failed')
  const child = spawn(process.execPath, [BIN, 'daemon', 'gateway'], {env, stdio: ['ignore', 'ignore', 'inherit']})
  const socketPath = join(base, 'run', 'gateway.sock')
  const agent = new Agent({keepAlive: true, maxSockets: 64})
  const subscribers = []
  try {
    const op = readFileSync(join(base, 'state', 'tokens', 'operator'), 'utf8').trim()
    const ag = readFileSync(join(base, 'state', 'tokens', 'agent'), 'utf8').trim()
    let health = null
    for (let i = 0; i < 200 && !health; i++) {
      health = await call(socketPath, agent, 'GET', '/health', op).then((r) => (r.status === 200 ? r.body : null), () => null)
      if (!health) await new Promise((r) => setTimeout(r, 50))
    }
    if (!health) throw new Error('gateway did not start')
    const port = health.listen.port
    await call(socketPath, agent, 'POST', '/config/credentials', op, {provider: 'anthropic', type: 'api_key', secret: 'sk-ant-api03-bench-not-a-real-key'})
    const chat = await call(socketPath, agent, 'POST', '/chat', op, {text: 'bench'})
    if (chat.status !== 202) throw new Error(`chat answered ${chat.status}`)

    const nSubscribers = Number(process.env.BENCH_GATEWAY_SUBSCRIBERS ?? 100)
    const nEvents = Number(process.env.BENCH_GATEWAY_EVENTS ?? 10_000)
    const targetRate = Number(process.env.BENCH_GATEWAY_RATE ?? 1500)
    const latencies = []
    for (let i = 0; i < nSubscribers; i++) subscribers.push(subscribe(port, op, i === 0 ? latencies : null))
    await Promise.all(subscribers.map((s) => s.ready))

    // Paced producer: at most 64 heartbeats in flight, never ahead of the target rate.
    const heartbeat = {request_id: chat.body.request_id, in_flight_tools: 1}
    const started = performance.now()
    let sent = 0
    let failed = null
    const worker = async () => {
      while (sent < nEvents && !failed) {
        const ahead = sent - ((performance.now() - started) / 1000) * targetRate
        if (ahead > 0) {
          await new Promise((r) => setTimeout(r, Math.max(1, (ahead / targetRate) * 1000)))
          continue
        }
        sent++
        const answer = await call(socketPath, agent, 'POST', '/agents/osmoda/heartbeat', ag, heartbeat)
        if (answer.status !== 200) failed = `heartbeat answered ${answer.status}`
      }
    }
    await Promise.all(Array.from({length: 64}, worker))
    if (failed) throw new Error(failed)
    const producedMs = performance.now() - started
    const deadline = Date.now() + 30_000
    while (subscribers.some((s) => s.count < nEvents) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    const deliveredMs = performance.now() - started
    const lost = subscribers.reduce((sum, s) => sum + Math.max(0, nEvents - s.count), 0)
    const gaps = subscribers.reduce((sum, s) => sum + s.gaps, 0)
    latencies.sort((a, b) => a - b)
    report({figure: 'gateway_sse_event_rate', unit: 'events/s', value: round((nEvents / producedMs) * 1000), events: nEvents, note: 'heartbeat.received events produced through POST /agents/{id}/heartbeat (target pacing BENCH_GATEWAY_RATE)'})
    report({figure: 'gateway_sse_fanout_deliveries', unit: 'events/s', value: round(((nEvents * nSubscribers - lost) / deliveredMs) * 1000), subscribers: nSubscribers, events: nEvents, note: 'SSE frames delivered to all subscribers over TCP per second'})
    report({figure: 'gateway_sse_fanout_lost', unit: 'events', value: lost, gaps, subscribers: nSubscribers, events: nEvents, note: 'events a subscriber never saw (must be 0) and id gaps'})
    report({figure: 'gateway_sse_latency_p99', unit: 'ms', value: latencies.length ? percentile(latencies, 99) : null, p50_ms: latencies.length ? percentile(latencies, 50) : null, note: 'event ts to arrival at one subscriber (ms clock)'})
    await call(socketPath, agent, 'POST', `/requests/${chat.body.request_id}/stop`, op)
  } finally {
    for (const s of subscribers) s.req?.destroy()
    agent.destroy()
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
    rmSync(base, {recursive: true, force: true})
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchGateway()
