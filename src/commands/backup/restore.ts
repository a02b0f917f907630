import {Args, Flags} from '@oclif/core'
import {createInterface} from 'node:readline/promises'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {ConflictError, UsageError} from '../../lib/errors.js'
import {configuredBackupDir, resolveArchive, restoreBackup, runningDaemons, stopOsmodaServices, type RestorePlan, type RestoreResult} from '../../lib/backup/restore.js'

export default class BackupRestore extends OsmodaCommand<RestoreResult> {
  static override summary = 'Restore a backup into the state dir (offline: every osmoda daemon must be stopped).'
  static override description = `Checks the archive before touching anything: every member's size and SHA-256 against the manifest, no
missing or extra members, no absolute, ".." or link members, and the archived ledger's hash chain. Then moves the
current state dir aside to <state>.pre-restore-<ts>, puts the archived state in its place, carries over the current
tokens/ and identity/ (archives never hold them) and leaves a marker that agentd records as backup.restored when it
next starts. Prompts for confirmation on a terminal; without one, --yes is required.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> bak_01JDQZ9V7C4Y3M2N1P0Q9R8S7T',
    '<%= config.bin %> <%= command.id %> /mnt/usb/bak_01JDQZ9V7C4Y3M2N1P0Q9R8S7T.tar.gz --stop-services --yes',
  ]
  static override args = {
    archive: Args.string({description: 'A bak_<ULID> from `osmoda backup list`, or the path of an archive', required: true}),
  }
  static override flags = {
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation (required without a terminal)'}),
    'stop-services': Flags.boolean({description: 'Stop osmoda.target through systemd first'}),
  }

  async run(): Promise<RestoreResult> {
    const {args, flags} = await this.parse(BackupRestore)
    if (!flags.yes && !process.stdin.isTTY) throw new UsageError('restore replaces the whole state dir: pass --yes to confirm without a terminal', {code: 'USAGE'})
    if (flags['stop-services']) await stopOsmodaServices()
    const running = await runningDaemons(this.paths)
    if (running.length) {
      throw new ConflictError(`restore is offline, but these osmoda daemons are running: ${running.join(', ')}`, {
        details: {running},
        hint: 'stop them first (systemctl stop osmoda.target, or Ctrl-C `osmoda up`), or pass --stop-services',
      })
    }
    const archive = resolveArchive(args.archive, configuredBackupDir(this.paths))
    const user = process.env.SUDO_USER ?? process.env.USER ?? 'root'
    const result = await restoreBackup({paths: this.paths, archive, actor: `operator:${user}`, confirm: flags.yes ? async () => true : (plan) => this.confirm(plan)})
    for (const warning of result.warnings) this.warn(warning)
    this.say(`restored ${result.id} into ${result.state_dir}: ${result.files} files, ledger ${result.ledger_size} events (head ${result.ledger_head_hash ?? '-'})`)
    if (result.previous_state_dir) this.say(`the previous state is kept at ${result.previous_state_dir}`)
    return result
  }

  private async confirm(plan: RestorePlan): Promise<boolean> {
    const rl = createInterface({input: process.stdin, output: process.stderr})
    try {
      this.note(`${plan.archive} passed every check: backup ${plan.id} of ${plan.created_at}, ${plan.files} files, ledger ${plan.ledger_size} events.`)
      this.note(plan.previous_state_dir ? `${plan.state_dir} will be moved to ${plan.previous_state_dir} and replaced.` : `${plan.state_dir} will be created.`)
      return /^y(es)?$/i.test((await rl.question('Restore? [y/N] ')).trim())
    } finally {
      rl.close()
    }
  }
}
