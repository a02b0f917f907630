import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {agentdApi} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type BackupList = z.output<typeof agentdApi.backupList.output>

export default class BackupListCommand extends OsmodaCommand<BackupList> {
  static override summary = 'List the backups kept in backup.dir, newest first.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --limit 5 --json']
  static override flags = {
    limit: Flags.integer({description: 'How many backups (default 50, at most 500)', min: 1}),
  }

  async run(): Promise<BackupList> {
    const {flags} = await this.parse(BackupListCommand)
    const list = await this.client('agentd', agentdApi).backupList({limit: flags.limit})
    if (list.backups.length === 0) this.say('no backups yet (osmoda backup create makes one)')
    else this.table(list.backups.map((b) => ({...b, note: b.note ?? ''})), ['id', 'created_at', 'size_bytes', 'note'])
    return list
  }
}
