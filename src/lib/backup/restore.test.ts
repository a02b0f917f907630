import Database from 'better-sqlite3'
import {createHash} from 'node:crypto'
import {chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'
import {afterEach, describe, expect, it} from 'vitest'
import {openLedger} from '../ledger/ledger.js'
import {pathsFrom} from '../paths.js'
import {restoreBackup} from './restore.js'
import {buildTar} from './tar.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true})
})

// A daemon that runs as its own user (voice) must get its files back with their owner.
const NOBODY = 65534
const VOICE = Buffer.from('voice state')
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** A temp install with a current state dir, and an archive of a 10-event ledger built by hand. */
function fixture(options: {tamper?: boolean; headHash?: string} = {}) {
  const base = mkdtempSync(join(tmpdir(), 'osmoda-restore-'))
  dirs.push(base)
  const paths = pathsFrom({runDir: join(base, 'run'), stateDir: join(base, 'state'), configDir: join(base, 'config')})
  mkdirSync(join(paths.stateDir, 'tokens'), {recursive: true})
  writeFileSync(join(paths.stateDir, 'tokens', 'operator'), 'osm_op_current\n', {mode: 0o600})
  writeFileSync(join(paths.stateDir, 'current.txt'), 'current state')
  const ledgerPath = join(base, 'source-ledger.db')
  const ledger = openLedger(ledgerPath)
  for (let i = 0; i < 10; i++) ledger.append({type: 'test.happened', actor: 'agentd', payload: {i}})
  const head = ledger.head()
  ledger.close()
  const db = new Database(ledgerPath)
  db.pragma('journal_mode = DELETE')
  if (options.tamper) {
    // Rewrite history the way an attacker with the file would: drop the guards, edit a payload.
    for (const name of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").pluck().all() as string[]) db.exec(`DROP TRIGGER "${name}"`)
    db.prepare("UPDATE events SET payload = '{\"i\":99}' WHERE seq = 3").run()
  }
  db.close()
  const ledgerBytes = readFileSync(ledgerPath)
  const manifest = {
    format: 'osmoda.backup.v1',
    id: 'bak_01JDQZ9V7C4Y3M2N1P0Q9R8S7T',
    created_at: '2026-11-26T00:00:00.000Z',
    osmoda_version: '0.1.0',
    note: null,
    files: [
      {path: 'ledger.db', sha256: sha(ledgerBytes), size_bytes: ledgerBytes.length},
      {path: 'voice/voice.db', sha256: sha(VOICE), size_bytes: VOICE.length},
    ],
    ledger: {size: 10, head_hash: options.headHash ?? head?.hash ?? null, latest_checkpoint_size: null},
  }
  const archive = join(base, 'bak.tar.gz')
  writeFileSync(
    archive,
    gzipSync(
      buildTar([
        {name: 'ledger.db', type: 'file', mode: 0o600, data: ledgerBytes},
        {name: 'voice', type: 'dir', mode: 0o700, uid: NOBODY, gid: NOBODY},
        {name: 'voice/voice.db', type: 'file', mode: 0o600, uid: NOBODY, gid: NOBODY, data: VOICE},
        {name: 'manifest.json', type: 'file', mode: 0o600, data: Buffer.from(JSON.stringify(manifest))},
      ]),
    ),
  )
  return {base, paths, archive, head}
}

const untouched = (f: ReturnType<typeof fixture>) => {
  expect(readFileSync(join(f.paths.stateDir, 'current.txt'), 'utf8')).toBe('current state')
  expect(readdirSync(f.base).sort()).toEqual(['bak.tar.gz', 'source-ledger.db', 'state'])
}

describe('restoreBackup', () => {
  it('swaps the archived state in, keeps the old one aside and carries tokens over', async () => {
    const f = fixture()
    const result = await restoreBackup({paths: f.paths, archive: f.archive, actor: 'operator:alice', confirm: async () => true, now: () => new Date('2026-11-26T01:02:03.456Z')})
    expect(result).toMatchObject({previous_state_dir: `${f.paths.stateDir}.pre-restore-20261126T010203Z`, carried_over: ['tokens'], ledger_size: 10, ledger_head_hash: f.head?.hash})
    expect(result.warnings).toEqual([expect.stringMatching(/no identity\//)])
    expect(readFileSync(join(f.paths.stateDir, 'tokens', 'operator'), 'utf8')).toBe('osm_op_current\n')
    expect(existsSync(join(f.paths.stateDir, 'current.txt'))).toBe(false)
    expect(readFileSync(join(`${f.paths.stateDir}.pre-restore-20261126T010203Z`, 'current.txt'), 'utf8')).toBe('current state')
    expect(JSON.parse(readFileSync(join(f.paths.stateDir, 'backup-restored.json'), 'utf8'))).toMatchObject({id: 'bak_01JDQZ9V7C4Y3M2N1P0Q9R8S7T', restored_by: 'operator:alice'})
  })

  it.skipIf(process.getuid?.() !== 0)('gives files back to their owners when run as root', async () => {
    const f = fixture()
    await restoreBackup({paths: f.paths, archive: f.archive, actor: 'operator:root', confirm: async () => true})
    const stat = statSync(join(f.paths.stateDir, 'voice', 'voice.db'))
    expect([stat.uid, stat.gid, stat.mode & 0o777]).toEqual([NOBODY, NOBODY, 0o600])
    expect(statSync(join(f.paths.stateDir, 'voice')).uid).toBe(NOBODY)
  })

  it.skipIf(process.getuid?.() !== 0)('carries tokens over with their modes and owners when run as root', async () => {
    const f = fixture()
    writeFileSync(join(f.paths.stateDir, 'tokens', 'agent'), 'osm_ag_current\n', {mode: 0o640})
    chownSync(join(f.paths.stateDir, 'tokens', 'agent'), 0, NOBODY)
    await restoreBackup({paths: f.paths, archive: f.archive, actor: 'operator:root', confirm: async () => true})
    const stat = statSync(join(f.paths.stateDir, 'tokens', 'agent'))
    expect([stat.uid, stat.gid, stat.mode & 0o777]).toEqual([0, NOBODY, 0o640])
  })

  it('changes nothing when the operator says no', async () => {
    const f = fixture()
    await expect(restoreBackup({paths: f.paths, archive: f.archive, actor: 'operator:alice', confirm: async () => false})).rejects.toMatchObject({code: 'ABORTED'})
    untouched(f)
  })

  it('refuses an archived ledger whose chain is broken, even when the manifest digests match', async () => {
    const f = fixture({tamper: true})
    await expect(restoreBackup({paths: f.paths, archive: f.archive, actor: 'operator:alice', confirm: async () => true})).rejects.toMatchObject({code: 'VERIFICATION_FAILED', message: expect.stringMatching(/first at seq 3/)})
    untouched(f)
  })

  it('refuses an archived ledger that does not end at the head the manifest names', async () => {
    const f = fixture({headHash: 'e'.repeat(64)})
    await expect(restoreBackup({paths: f.paths, archive: f.archive, actor: 'operator:alice', confirm: async () => true})).rejects.toMatchObject({code: 'VERIFICATION_FAILED', message: expect.stringMatching(/the manifest says 10 e{64}/)})
    untouched(f)
  })
})
