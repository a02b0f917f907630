// keyd: signatures per second per chain and policy-check latency, through the real daemon (socket,
// token, policy check-and-reserve, key decrypt, sign, zeroize, receipt, ledger append), and the
// bare signing primitive for comparison.
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {keydApi} from '../dist/daemons/keyd/api.js'
import {agentdApi} from '../dist/daemons/agentd/api.js'
import {addressOf, ed25519Sign, generateSecret} from '../dist/daemons/keyd/chain-keys.js'
import {signatureRsv} from '../dist/daemons/keyd/eth.js'
import {createClient} from '../dist/lib/rpc/client.js'
import {DAEMON_NODE_FLAGS} from '../dist/lib/supervisor.js'
import {percentile, report, round, until} from './lib.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BIN = join(ROOT, 'bin', 'run.js')
const SIGNS = 600
const EVALS = 1000
const CONCURRENCY = 8

/** Runs `n` calls of `fn` with `concurrency` in flight; returns calls/s and sorted latencies. */
async function drive(n, concurrency, fn) {
  const latencies = []
  let next = 0
  const start = performance.now()
  await Promise.all(
    Array.from({length: concurrency}, async () => {
      while (next < n) {
        const i = next++
        const t = performance.now()
        await fn(i)
        latencies.push(performance.now() - t)
      }
    }),
  )
  const secs = (performance.now() - start) / 1000
  latencies.sort((a, b) => a - b)
  return {per_sec: round(n / secs), p50_ms: round(percentile(latencies, 50)), p99_ms: round(percentile(latencies, 99))}
}

function primitives() {
  const eth = generateSecret('ethereum')
  const sol = generateSecret('solana')
  const digest = new Uint8Array(32).fill(7)
  const message = new Uint8Array(200).fill(1)
  const rate = (fn) => {
    for (let i = 0; i < 200; i++) fn()
    const n = 3000
    const start = performance.now()
    for (let i = 0; i < n; i++) fn()
    return round(n / ((performance.now() - start) / 1000))
  }
  report({bench: 'keyd_sign_primitive', chain: 'ethereum', algorithm: 'secp256k1 (noble, low-s, recoverable)', per_sec: rate(() => signatureRsv(digest, eth))})
  report({bench: 'keyd_sign_primitive', chain: 'solana', algorithm: 'ed25519 (node:crypto)', per_sec: rate(() => ed25519Sign(sol, message)), address_check: addressOf('solana', sol).length > 30})
}

export async function benchKeyd() {
  primitives()
  const base = mkdtempSync(join(tmpdir(), 'osmoda-bench-keyd-'))
  const env = {...process.env, OSMODA_RUN_DIR: join(base, 'run'), OSMODA_STATE_DIR: join(base, 'state'), OSMODA_CONFIG_DIR: join(base, 'config')}
  delete env.OSMODA_TOKEN
  spawnSync(process.execPath, [BIN, 'init'], {env})
  const token = readFileSync(join(base, 'state', 'tokens', 'operator'), 'utf8').trim()
  const daemons = []
  const start = async (name, api) => {
    const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, BIN, 'daemon', name], {env, stdio: 'ignore'})
    daemons.push(child)
    const client = createClient(name, api, {socketPath: join(base, 'run', `${name}.sock`), token})
    await until(() => client.health().then(() => true))
    return client
  }
  try {
    ;(await start('agentd', agentdApi)).close()
    const keyd = await start('keyd', keydApi)
    // A policy without a signature budget, so the bench measures the path, not the limit.
    await keyd.walletPolicyPut({
      policy: {
        version: 1,
        default_effect: 'deny',
        rules: [
          {id: 'bench-sign', effect: 'allow', actions: ['sign']},
          {id: 'bench-sol', effect: 'allow', actions: ['send'], chains: ['solana'], max_per_tx: '1000', window: {secs: 3600, max_total: '100000000000'}},
        ],
      },
    })
    const eth = await keyd.walletCreate({chain: 'ethereum', label: 'bench-eth'})
    const sol = await keyd.walletCreate({chain: 'solana', label: 'bench-sol'})
    const to = (await keyd.walletCreate({chain: 'solana', label: 'bench-to'})).address
    for (const [chain, wallet] of [['ethereum', eth], ['solana', sol]]) {
      const payload = `0x${Buffer.from(`bench message for ${chain}`).toString('hex')}`
      for (const concurrency of [1, CONCURRENCY]) {
        const r = await drive(SIGNS, concurrency, () => keyd.walletSign({wallet_id: wallet.id, payload}))
        report({bench: 'keyd_signatures_per_sec', chain, route: 'POST /wallet/sign', concurrency, signatures: SIGNS, ...r})
      }
    }
    const blockhash = 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N'
    const tx = await drive(SIGNS, CONCURRENCY, () => keyd.walletBuildTx({wallet_id: sol.id, tx_type: 'transfer', to, value: '1', chain_params: {recent_blockhash: blockhash}}))
    report({bench: 'keyd_signatures_per_sec', chain: 'solana', route: 'POST /wallet/build-tx (rolling window checked and reserved)', concurrency: CONCURRENCY, signatures: SIGNS, ...tx})
    const evaluate = await drive(EVALS, 1, () => keyd.walletPolicyEvaluate({wallet_id: sol.id, action: 'send', to, value: '1'}))
    report({bench: 'keyd_policy_check_latency', route: 'POST /wallet/policy/evaluate (window over ' + SIGNS + ' spends)', calls: EVALS, p50_ms: evaluate.p50_ms, p99_ms: evaluate.p99_ms})
    keyd.close()
  } finally {
    for (const child of daemons.reverse()) child.kill('SIGTERM')
    await new Promise((resolve) => setTimeout(resolve, 500))
    rmSync(base, {recursive: true, force: true})
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchKeyd()
