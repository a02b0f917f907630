// Backup figures: POST /backup/create's work (online-backup snapshot, manifest, tar.gz, fsync) over a
// 100k-event ledger, and the offline restore of that archive (checks, ledger chain, swap).
import {mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createBackupService} from '../dist/daemons/agentd/backup.js'
import {openLedger} from '../dist/lib/ledger/ledger.js'
import {silentLogger} from '../dist/lib/log.js'
import {pathsFrom} from '../dist/lib/paths.js'
import {restoreBackup} from '../dist/lib/backup/restore.js'
import {buildChain} from './ledger.js'
import {report, round} from './lib.js'

/** Runs the backup benchmarks. */
export async function benchBackup() {
  const base = mkdtempSync(join(tmpdir(), 'osmoda-bench-backup-'))
  try {
    const n = Number(process.env.BENCH_BACKUP_EVENTS ?? 100_000)
    const stateDir = join(base, 'state')
    mkdirSync(stateDir)
    buildChain(join(stateDir, 'ledger.db'), n)
    const ledger = openLedger(join(stateDir, 'ledger.db'))
    const settings = {dir: join(base, 'backups'), retentionDays: 7, keepMin: 3, timeoutSecs: 600}
    const backups = createBackupService({stateDir, ledger, log: silentLogger, version: 'bench', settings: () => settings})
    let start = performance.now()
    const made = await backups.create({note: 'bench'}, 'agentd')
    const createMs = performance.now() - start
    ledger.close()
    report({figure: 'backup_create_ms', unit: 'ms', value: round(createMs), ledger_events: n, archive_bytes: made.size_bytes, note: 'SQLite online backup of ledger.db + manifest + tar.gz + fsync, in-process'})

    const paths = pathsFrom({runDir: join(base, 'run'), stateDir: join(base, 'restored'), configDir: join(base, 'config')})
    start = performance.now()
    await restoreBackup({paths, archive: made.path, actor: 'operator:bench', confirm: async () => true})
    report({figure: 'backup_restore_ms', unit: 'ms', value: round(performance.now() - start), ledger_events: n, note: 'gunzip + manifest SHA-256 checks + extract + full ledger chain verification + swap'})
  } finally {
    rmSync(base, {recursive: true, force: true})
  }
}
