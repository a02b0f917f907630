import {mkdirSync} from 'node:fs'
import {join} from 'node:path'
import type {z} from 'zod'
import {createTokenAuth} from '../../lib/rpc/auth.js'
import {createRpcServer} from '../../lib/rpc/server.js'
import type {DaemonContext, DaemonDefinition, ReloadResult} from '../../lib/daemon/runtime.js'
import {keydApi, type KeydHealth} from './api.js'
import {KeydConfig} from './config.js'
import {createAgentdGate} from './gate.js'
import {createKeystore, readKek, resolveKekFile} from './keystore.js'
import {createPolicyHolder} from './policy-file.js'
import {keydHandlers} from './routes.js'
import {createSigning} from './signing.js'
import {createKeydStore, openKeydDb} from './store.js'
import {createKeydService} from './wallet-service.js'

const EXPIRY_LOOP_MS = 10_000

async function main(ctx: DaemonContext<KeydConfig>): Promise<void> {
  const startedAt = Date.now()
  let config = ctx.config
  const stateDir = ctx.paths.daemonStateDir('keyd')
  const keysDir = join(stateDir, 'keys')
  mkdirSync(keysDir, {recursive: true, mode: 0o700})
  const kekFile = resolveKekFile(ctx.paths, config.kekFile, process.env)
  const keystore = createKeystore({dir: keysDir, kek: readKek(kekFile, ctx.paths.stateDir), kekFile})
  const db = openKeydDb(ctx.paths)
  try {
    const policy = createPolicyHolder({
      file: config.policyMutable ? join(stateDir, 'policy.json') : join(ctx.paths.configDir, 'keyd-policy.json'),
      mutable: config.policyMutable,
      seed: config.policySeed,
    })
    const store = createKeydStore(db)
    const service = createKeydService({store, keystore, policy, ledger: ctx.ledger, gate: createAgentdGate(ctx.paths), log: ctx.log, reservationTtlSecs: () => config.reservationTtlSecs})
    // Refuses to start (KEYSTORE_LOCKED) when wallets exist and the KEK is missing or wrong.
    const keystoreProblems = service.checkKeystore()
    for (const problem of keystoreProblems) ctx.log.warn('keystore', {problem})
    const signing = createSigning(service, () => config)
    const auth = createTokenAuth(ctx.paths.tokensDir)

    const health = async (): Promise<z.input<typeof KeydHealth>> => {
      const loaded = policy.loaded()
      const problems = [...keystoreProblems, ...(policy.problem() ? [policy.problem() as string] : [])]
      return {
        status: problems.length ? 'degraded' : 'ok',
        daemon: 'keyd',
        version: ctx.version,
        pid: process.pid,
        uptime_secs: Math.round((Date.now() - startedAt) / 1000),
        ...(problems.length ? {problems} : {}),
        wallet_count: store.listWallets().length,
        policy_loaded: loaded !== null,
        policy_rules: loaded?.policy.rules.length ?? 0,
        policy_sha256: loaded?.sha256 ?? null,
        keystore: keystore.unlocked ? 'unlocked' : 'locked',
      }
    }
    const reload = async (): Promise<ReloadResult> => {
      const next = ctx.readConfig()
      auth.reload()
      const before = policy.loaded()?.sha256 ?? null
      policy.reload()
      const changed = (Object.keys(next) as (keyof KeydConfig)[]).filter((key) => JSON.stringify(next[key]) !== JSON.stringify(config[key]))
      if ((policy.loaded()?.sha256 ?? null) !== before) changed.push('policy' as keyof KeydConfig)
      config = next
      ctx.log.info('reloaded', {changed})
      return {reloaded: true, changed}
    }
    ctx.onReload(reload)
    const onPolicyChanged = (sha256: string, actor: string) => ctx.ledger.append({type: 'wallet.policy_changed', actor, payload: {sha256}})

    const server = createRpcServer({daemon: 'keyd', version: ctx.version, api: keydApi, handlers: keydHandlers({health, reload, service, signing, policy, onPolicyChanged}), auth, log: ctx.log})
    const expiry = setInterval(() => {
      const released = service.expireReservations()
      if (released) ctx.log.info('reservations expired', {released})
    }, EXPIRY_LOOP_MS)
    expiry.unref()
    try {
      await server.listen(ctx.paths.socket('keyd'), {group: ctx.config.socketGroup})
      ctx.ready()
      if (!ctx.signal.aborted) await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), {once: true}))
      await server.close()
    } finally {
      clearInterval(expiry)
    }
  } finally {
    db.close()
  }
}

/** keyd: wallets, policy and offline signing (SPEC §2.2). */
export const keyd: DaemonDefinition<typeof KeydConfig> = {name: 'keyd', configSchema: KeydConfig, main}
