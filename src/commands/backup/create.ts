import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {agentdApi, BACKUP_CREATE_CLIENT_TIMEOUT_MS} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Backup = z.output<typeof agentdApi.backupCreate.output>

export default class BackupCreate extends OsmodaCommand<Backup> {
  static override summary = "Back up osmoda's state (ledger, daemon databases, memory, policies) into one archive."
  static override description = `agentd snapshots every database with SQLite's online backup API while the daemons keep running and
writes <backup.dir>/bak_<ULID>.tar.gz (mode 0600) with a manifest of SHA-256 sums. Tokens, node identity keys and
key-encryption keys are never included. Older backups are pruned per backup.retentionDays / backup.keepMin.`
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --note "before upgrading postgres" --json']
  static override flags = {
    note: Flags.string({description: 'Why this backup is made (at most 200 characters)'}),
  }

  async run(): Promise<Backup> {
    const {flags} = await this.parse(BackupCreate)
    const backup = await this.client('agentd', agentdApi).backupCreate({note: flags.note}, {timeoutMs: BACKUP_CREATE_CLIENT_TIMEOUT_MS})
    this.say(`${backup.id}  ${backup.path}`)
    this.say(`  ${backup.size_bytes} bytes, sha256 ${backup.sha256}, ${backup.manifest.files} files, ledger ${backup.manifest.ledger_size} events (head ${backup.manifest.ledger_head_hash ?? '-'})`)
    return backup
  }
}
