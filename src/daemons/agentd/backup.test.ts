import Database from 'better-sqlite3'
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gunzipSync} from 'node:zlib'
import {afterEach, describe, expect, it} from 'vitest'
import {BackupManifest} from '../../lib/backup/manifest.js'
import {parseTar} from '../../lib/backup/tar.js'
import {createIdGenerator} from '../../lib/ids.js'
import {openLedger, type Ledger} from '../../lib/ledger/ledger.js'
import {silentLogger} from '../../lib/log.js'
import {createBackupService, type BackupSettings} from './backup.js'

const dirs: string[] = []
const ledgers: Ledger[] = []
afterEach(() => {
  for (const l of ledgers.splice(0)) l.close()
  for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true})
})

function seededState() {
  const base = mkdtempSync(join(tmpdir(), 'osmoda-backup-'))
  dirs.push(base)
  const state = join(base, 'state')
  mkdirSync(join(state, 'tokens'), {recursive: true})
  mkdirSync(join(state, 'identity'))
  mkdirSync(join(state, 'agentd'))
  mkdirSync(join(state, 'memory', 'ops', '2026-11'), {recursive: true})
  mkdirSync(join(state, 'skills', 'auto-restart-nginx'), {recursive: true})
  mkdirSync(join(state, 'workspace-ops'))
  writeFileSync(join(state, 'tokens', 'operator'), 'osm_op_SECRETTOKENVALUE\n', {mode: 0o600})
  writeFileSync(join(state, 'identity', 'ed25519.key'), 'IDENTITYKEYSECRET', {mode: 0o600})
  writeFileSync(join(state, 'workspace-ops', 'notes.txt'), 'WORKSPACESECRET')
  writeFileSync(join(state, 'memory', 'ops', '2026-11', 'mem_1.md'), '---\nid: mem_1\n---\nnginx restarted\n')
  writeFileSync(join(state, 'skills', 'auto-restart-nginx', 'SKILL.md'), '# skill\n')
  symlinkSync('/etc/passwd', join(state, 'skills', 'auto-restart-nginx', 'link'))
  writeFileSync(join(state, 'agentd', 'approval-rules.json'), '{"rules":{}}\n')
  const db = new Database(join(state, 'agentd', 'agentd.db'))
  db.exec("CREATE TABLE incidents (id TEXT); INSERT INTO incidents VALUES ('inc_1')")
  db.close()
  const ledger = openLedger(join(state, 'ledger.db'))
  ledgers.push(ledger)
  for (let i = 0; i < 20; i++) ledger.append({type: 'test.happened', actor: 'agentd', payload: {i}})
  return {base, state, ledger}
}

function service(state: string, ledger: Ledger, settings: Partial<BackupSettings> = {}, now = () => Date.now(), deadline?: (ms: number) => AbortSignal) {
  const dir = join(state, '..', 'backups')
  const full = {dir, retentionDays: 7, keepMin: 3, timeoutSecs: 60, ...settings}
  return {dir, backups: createBackupService({stateDir: state, ledger, log: silentLogger, version: '0.1.0', settings: () => full, now, newId: createIdGenerator({clock: now}), deadline})}
}

describe('backup create', () => {
  it('archives the databases and state files with a manifest, and never tokens, identity or workspaces', async () => {
    // Given a seeded state dir
    const {state, ledger} = seededState()
    const head = ledger.head()
    const {backups} = service(state, ledger)
    // When a backup is made
    const out = await backups.create({note: 'before upgrade'}, 'operator:alice')
    // Then the archive is 0600, its digest matches, and it holds exactly the listed members
    expect(statSync(out.path).mode & 0o777).toBe(0o600)
    const bytes = readFileSync(out.path)
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(out.sha256)
    expect(out.size_bytes).toBe(bytes.length)
    const tar = gunzipSync(bytes)
    const entries = parseTar(tar)
    const names = entries.map((e) => e.name)
    expect(names).toEqual(expect.arrayContaining(['ledger.db', 'agentd/agentd.db', 'agentd/approval-rules.json', 'memory/ops/2026-11/mem_1.md', 'skills/auto-restart-nginx/SKILL.md', 'manifest.json']))
    expect(names.some((n) => /^(tokens|identity|workspace-)/.test(n) || n.endsWith('/link'))).toBe(false)
    for (const secret of ['osm_op_SECRETTOKENVALUE', 'IDENTITYKEYSECRET', 'WORKSPACESECRET']) expect(tar.includes(Buffer.from(secret))).toBe(false)
    const manifest = BackupManifest.parse(JSON.parse(entries.find((e) => e.name === 'manifest.json')?.data.toString() ?? ''))
    expect(manifest.ledger).toMatchObject({size: 20, head_hash: head?.hash})
    expect(out.manifest).toEqual({files: manifest.files.length, ledger_size: 20, ledger_head_hash: head?.hash})
    for (const file of manifest.files) {
      const entry = entries.find((e) => e.name === file.path)
      expect(createHash('sha256').update(entry?.data ?? Buffer.alloc(0)).digest('hex')).toBe(file.sha256)
    }
    // And the snapshot of agentd.db holds its rows; the ledger records the backup
    expect(ledger.head()?.hash).not.toBe(head?.hash)
    expect(ledger.query({type: 'backup.created', limit: 1, order: 'desc'})[0]?.payload).toEqual({id: out.id, size_bytes: out.size_bytes, sha256: out.sha256})
  })

  it('lists backups newest first and clamps to the limit', async () => {
    const {state, ledger} = seededState()
    const {backups} = service(state, ledger, {keepMin: 10})
    const a = await backups.create({}, 'agentd')
    const b = await backups.create({note: 'second'}, 'agentd')
    expect(backups.list(50).backups.map((x) => x.id)).toEqual([b.id, a.id])
    expect(backups.list(1).backups).toEqual([{id: b.id, path: b.path, size_bytes: b.size_bytes, sha256: b.sha256, created_at: b.created_at, note: 'second'}])
  })

  it('refuses a second backup while one runs', async () => {
    const {state, ledger} = seededState()
    const {backups} = service(state, ledger)
    const first = backups.create({}, 'agentd')
    await expect(backups.create({}, 'agentd')).rejects.toMatchObject({code: 'CONFLICT'})
    await first
  })

  it('prunes backups older than retentionDays but keeps the keepMin newest', async () => {
    // Given five backups made ten days ago, one per minute
    const {state, ledger} = seededState()
    let now = Date.now() - 10 * 86_400_000
    const {backups, dir} = service(state, ledger, {retentionDays: 7, keepMin: 3}, () => now)
    const made = []
    for (let i = 0; i < 5; i++) {
      made.push(await backups.create({}, 'agentd'))
      now += 60_000
    }
    expect(backups.list(50).backups).toHaveLength(5)
    // When a backup is made today
    now = Date.now()
    const fresh = await backups.create({}, 'agentd')
    // Then only the keepMin newest remain, and the pruned ids are ledgered
    expect(backups.list(50).backups.map((b) => b.id)).toEqual([fresh.id, made[4]?.id, made[3]?.id])
    expect(existsSync(made[0]?.path ?? '')).toBe(false)
    expect(existsSync(join(dir, `${made[0]?.id}.json`))).toBe(false)
    expect(ledger.query({type: 'backup.pruned', limit: 1, order: 'desc'})[0]?.payload).toEqual({ids: [made[2]?.id, made[1]?.id, made[0]?.id]})
  })

  it('stops when the caller goes away and leaves no partial archive', async () => {
    const {state, ledger} = seededState()
    const {backups, dir} = service(state, ledger)
    const controller = new AbortController()
    controller.abort()
    await expect(backups.create({}, 'agentd', controller.signal)).rejects.toMatchObject({code: 'NOT_READY'})
    expect(backups.list(50).backups).toEqual([])
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([])
  })

  it('gives up at the deadline with UPSTREAM_TIMEOUT and leaves no partial archive', async () => {
    // Given a deadline that has already passed
    const {state, ledger} = seededState()
    const {backups, dir} = service(state, ledger, {timeoutSecs: 1}, Date.now, () => AbortSignal.abort(new DOMException('timed out', 'TimeoutError')))
    // When a backup runs / Then it stops with 504's code and a hint
    await expect(backups.create({}, 'agentd')).rejects.toMatchObject({code: 'UPSTREAM_TIMEOUT', hint: expect.stringMatching(/timeoutSecs/)})
    expect(backups.list(50).backups).toEqual([])
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([])
  })
})
