import {OsmodaCommand} from '../../../lib/cli/command.js'
import type {TelegramStatusResult} from '../../../daemons/gateway/channels/client.js'

export default class ChannelTelegramStatus extends OsmodaCommand<TelegramStatusResult> {
  static override summary = 'Show the Telegram channel: configured mode, the webhook Telegram knows, pending updates.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<TelegramStatusResult> {
    await this.parse(ChannelTelegramStatus)
    const {readChannelsConfig, telegramStatus} = await import('../../../daemons/gateway/channels/client.js')
    const status = await telegramStatus(readChannelsConfig(this.paths).telegram)
    this.table([status], ['enabled', 'configured_mode', 'webhook_url', 'pending_update_count', 'allowed_users'])
    if (status.last_error_message) this.warn(`Telegram reports: ${status.last_error_message}`)
    return status
  }
}
