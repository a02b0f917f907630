// Test wiring for keyd's services in one process: real temp dirs, real SQLite, a fake gate and a
// controllable clock.
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {randomBytes} from 'node:crypto'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {OsmodaError} from '../../src/lib/errors.js'
import {openLedger} from '../../src/lib/ledger/ledger.js'
import {createLogger} from '../../src/lib/log.js'
import {pathsFrom} from '../../src/lib/paths.js'
import {KeydConfig} from '../../src/daemons/keyd/config.js'
import type {KeydGate, KeydGateRequest} from '../../src/daemons/keyd/gate.js'
import {createKeystore, readKek} from '../../src/daemons/keyd/keystore.js'
import {createPolicyHolder} from '../../src/daemons/keyd/policy-file.js'
import type {Policy} from '../../src/daemons/keyd/policy.js'
import {createSigning} from '../../src/daemons/keyd/signing.js'
import {createKeydStore, openKeydDb} from '../../src/daemons/keyd/store.js'
import {createKeydService} from '../../src/daemons/keyd/wallet-service.js'

/** The approval id the fake gate treats as approved. */
export const APPROVED = 'apr_01JDQ9ZK3W7Y4X2V5T8R6N0M1P'

/** An async gate double: records calls, yields to the event loop, then allows or answers 412. */
export function fakeGate(): KeydGate & {calls: KeydGateRequest[]} {
  const calls: KeydGateRequest[] = []
  return {
    calls,
    async check(request) {
      calls.push(structuredClone(request))
      await new Promise((r) => setImmediate(r))
      if (request.ctx.role === 'operator' || request.hint === 'not_required') return null
      if (request.approvalId === APPROVED) return APPROVED
      throw new OsmodaError('APPROVAL_REQUIRED', `${request.operation} needs approval`, {details: {approval_id: 'apr_01JDQ9ZK3W7Y4X2V5T8R6N0M1Q', expires_at: '2026-11-25T21:40:00.000Z', operation: request.operation, summary: request.summary}})
    },
  }
}

/** A temp keyd: state and config dirs, a KEK file, and services built on them. */
export function keydKit(options: {policy?: Policy; kek?: Buffer | null} = {}) {
  const base = mkdtempSync(join(tmpdir(), 'osmoda-keyd-'))
  const paths = pathsFrom({runDir: join(base, 'run'), stateDir: join(base, 'state'), configDir: join(base, 'config')})
  mkdirSync(join(paths.configDir, 'secrets'), {recursive: true})
  const kekFile = join(paths.configDir, 'secrets', 'keyd.kek')
  if (options.kek !== null) writeFileSync(kekFile, options.kek ?? randomBytes(32), {mode: 0o600})
  const now = {ms: Date.parse('2026-11-25T12:00:00.000Z')}
  const gate = fakeGate()
  const opened: {close(): void}[] = []
  const config = KeydConfig.parse({})

  const open = () => {
    const keysDir = join(paths.daemonStateDir('keyd'), 'keys')
    mkdirSync(keysDir, {recursive: true})
    const keystore = createKeystore({dir: keysDir, kek: readKek(kekFile, paths.stateDir), kekFile})
    const db = openKeydDb(paths)
    const ledger = openLedger(paths.ledgerDb)
    opened.push(db, ledger)
    const store = createKeydStore(db)
    const policy = createPolicyHolder({file: join(paths.daemonStateDir('keyd'), 'policy.json'), mutable: true, seed: options.policy})
    const service = createKeydService({store, keystore, policy, ledger, gate, log: createLogger({level: 'error'}), clock: () => now.ms, reservationTtlSecs: () => 60})
    return {keystore, store, policy, ledger, service, signing: createSigning(service, () => config)}
  }
  return {
    base, paths, kekFile, now, gate, open,
    cleanup() {
      for (const o of opened) o.close()
      rmSync(base, {recursive: true, force: true})
    },
  }
}
