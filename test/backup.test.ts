import Database from 'better-sqlite3'
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {gunzipSync} from 'node:zlib'
import {afterEach, describe, expect, it} from 'vitest'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {openLedger} from '../src/lib/ledger/ledger.js'
import {testEnv, type TestEnv} from './helpers/env.js'

let env: TestEnv | undefined
afterEach(async () => {
  await env?.cleanup()
  env = undefined
})

const KEK = 'KEY-ENCRYPTION-KEY-0123456789abcdef'

/** A stack with a few events, a memory, an incident row in agentd.db and a KEK in <config>/secrets. */
async function seeded() {
  env = await testEnv()
  const agentd = await env.start('agentd')
  const client = env.client('agentd', agentdApi)
  for (let i = 0; i < 5; i++) await client.toolCalls({tool: 'system_health', toolset: 'agentd', args_sha256: 'a'.repeat(64), outcome: 'ok', duration_ms: i})
  client.close()
  const {stateDir, configDir} = env.paths
  mkdirSync(join(stateDir, 'memory', 'ops', '2026-11'), {recursive: true})
  writeFileSync(join(stateDir, 'memory', 'ops', '2026-11', 'mem_1.md'), '---\nid: mem_1\n---\nnginx was restarted\n')
  const db = new Database(join(stateDir, 'agentd', 'agentd.db'))
  db.exec("CREATE TABLE IF NOT EXISTS test_incidents (id TEXT); INSERT INTO test_incidents VALUES ('inc_1')")
  db.close()
  mkdirSync(join(configDir, 'secrets'), {recursive: true, mode: 0o700})
  writeFileSync(join(configDir, 'secrets', 'keyd.kek'), KEK, {mode: 0o600})
  return {env, agentd}
}

const cli = (e: TestEnv, args: string[]) => e.cli(args, {timeoutMs: 60_000})

describe('osmoda backup', () => {
  it('backs up, refuses to restore while agentd runs, and restores a wiped state dir to the same ledger head', async () => {
    // Given a seeded stack and a backup of it
    const {env, agentd} = await seeded()
    const created = await cli(env, ['backup', 'create', '--note', 'before the wipe', '--json'])
    expect(created.exitCode, created.stderr).toBe(0)
    const backup = created.json.result
    expect(backup).toMatchObject({id: expect.stringMatching(/^bak_/), note: 'before the wipe', manifest: {ledger_size: expect.any(Number)}})
    const listed = await cli(env, ['backup', 'list', '--json'])
    expect(listed.json.result.backups.map((b: {id: string}) => b.id)).toEqual([backup.id])

    // Then the archive holds no token, identity key or KEK
    const tar = gunzipSync(readFileSync(backup.path))
    const secrets = [env.token('operator'), env.token('agent'), readFileSync(join(env.paths.identityDir, 'ed25519.key'), 'utf8'), readFileSync(join(env.paths.identityDir, 'noise_static.key'), 'utf8'), KEK]
    for (const secret of secrets) expect(tar.includes(Buffer.from(secret.trim())), secret.slice(0, 12)).toBe(false)

    // When a restore is attempted while agentd runs
    const refused = await cli(env, ['backup', 'restore', backup.id, '--yes'])
    // Then it is refused, naming the daemon, and nothing moves
    expect(refused.exitCode).toBe(1)
    expect(refused.stderr).toMatch(/agentd/)
    expect(readdirSync(env.base).filter((n) => n.includes('pre-restore'))).toEqual([])

    // When agentd is stopped, the state dir wiped except tokens/ and identity/, and the backup restored
    await agentd.stopClean()
    const operatorToken = env.token('operator')
    for (const name of readdirSync(env.paths.stateDir)) if (name !== 'tokens' && name !== 'identity') rmSync(join(env.paths.stateDir, name), {recursive: true, force: true})
    const noYes = await cli(env, ['backup', 'restore', backup.id])
    expect(noYes.exitCode).toBe(2)
    const restored = await cli(env, ['backup', 'restore', backup.id, '--yes', '--json'])
    expect(restored.exitCode, restored.stderr).toBe(0)
    expect(restored.json.result).toMatchObject({id: backup.id, carried_over: ['tokens', 'identity'], warnings: [], ledger_head_hash: backup.manifest.ledger_head_hash})

    // Then the ledger ends at the archived head, agentd.db and memory are back, tokens are the current ones
    const ledger = openLedger(env.paths.ledgerDb, {readonly: true})
    expect(ledger.head()?.hash).toBe(backup.manifest.ledger_head_hash)
    ledger.close()
    const db = new Database(join(env.paths.stateDir, 'agentd', 'agentd.db'), {readonly: true})
    expect(db.prepare('SELECT id FROM test_incidents').pluck().all()).toEqual(['inc_1'])
    db.close()
    expect(readFileSync(join(env.paths.stateDir, 'memory', 'ops', '2026-11', 'mem_1.md'), 'utf8')).toContain('nginx was restarted')
    expect(env.token('operator')).toBe(operatorToken)
    expect(existsSync(restored.json.result.previous_state_dir)).toBe(true)

    // And agentd records the restore on its next start and removes the marker
    const again = await env.start('agentd')
    const client = env.client('agentd', agentdApi)
    const events = await client.eventsLog({type: 'backup.restored'})
    expect(events.events[0]?.payload).toMatchObject({id: backup.id, ledger_head_hash: backup.manifest.ledger_head_hash, restored_by: expect.stringMatching(/^operator:/)})
    expect(events.events[0]?.seq).toBe(backup.manifest.ledger_size + 1)
    expect(existsSync(join(env.paths.stateDir, 'backup-restored.json'))).toBe(false)
    client.close()
    await again.stopClean()
  })

  it('restores into a state dir that is gone entirely, warning that tokens and identity must be recreated', async () => {
    const {env, agentd} = await seeded()
    const backup = (await cli(env, ['backup', 'create', '--json'])).json.result
    await agentd.stopClean()
    rmSync(env.paths.stateDir, {recursive: true, force: true})
    const restored = await env.cli(['backup', 'restore', backup.path, '--yes', '--json'], {env: {OSMODA_TOKEN: 'unused'}})
    expect(restored.exitCode, restored.stderr).toBe(0)
    expect(restored.json.result).toMatchObject({previous_state_dir: null, carried_over: []})
    expect(restored.json.warnings.join('\n')).toMatch(/osmoda init/)
    const ledger = openLedger(env.paths.ledgerDb, {readonly: true})
    expect(ledger.head()?.hash).toBe(backup.manifest.ledger_head_hash)
    ledger.close()
  })

  it('refuses a damaged archive before touching the state dir', async () => {
    const {env, agentd} = await seeded()
    const backup = (await cli(env, ['backup', 'create', '--json'])).json.result
    await agentd.stopClean()
    const damaged = join(env.base, 'damaged.tar.gz')
    const bytes = readFileSync(backup.path)
    const middle = Math.floor(bytes.length / 2)
    bytes[middle] = (bytes[middle] as number) ^ 0x01
    writeFileSync(damaged, bytes)
    const before = readdirSync(env.paths.stateDir).sort()
    for (const ref of [damaged, backup.id]) {
      if (ref === backup.id) writeFileSync(backup.path, bytes)
      const res = await cli(env, ['backup', 'restore', ref, '--yes', '--json'])
      expect(res.exitCode, res.stdout).toBe(5)
      expect(res.json.error.code).toBe('VERIFICATION_FAILED')
    }
    expect(readdirSync(env.paths.stateDir).sort()).toEqual(before)
    expect(readdirSync(env.base).filter((n) => n.includes('restore'))).toEqual([])
  })
})
