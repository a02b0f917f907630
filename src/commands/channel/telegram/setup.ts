import {Flags} from '@oclif/core'
import {OsmodaCommand} from '../../../lib/cli/command.js'
import type {TelegramSetupResult} from '../../../daemons/gateway/channels/client.js'

export default class ChannelTelegramSetup extends OsmodaCommand<TelegramSetupResult> {
  static override summary = 'Register the gateway webhook with Telegram, or go back to long polling.'
  static override description =
    'With --url, calls setWebhook with the secret token the gateway checks on POST /telegram/webhook (the secret file from channels.telegram.webhookSecretFile is created if missing, never overwritten). With --polling, calls deleteWebhook. gateway.json is not edited: set channels.telegram.mode to match and reload the gateway.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> --url https://osmoda.example.com/telegram/webhook',
    '<%= config.bin %> <%= command.id %> --polling --json',
  ]
  static override flags = {
    url: Flags.string({description: 'Public https:// URL that reaches the gateway\'s /telegram/webhook', exactlyOne: ['url', 'polling']}),
    polling: Flags.boolean({description: 'Remove the webhook so the gateway can long-poll', exactlyOne: ['url', 'polling']}),
  }

  async run(): Promise<TelegramSetupResult> {
    const {flags} = await this.parse(ChannelTelegramSetup)
    const {readChannelsConfig, telegramSetup} = await import('../../../daemons/gateway/channels/client.js')
    const config = readChannelsConfig(this.paths).telegram
    const result = await telegramSetup(config, {url: flags.url, polling: flags.polling})
    if (result.mode !== result.configured_mode) this.warn(`gateway.json has channels.telegram.mode "${result.configured_mode}"; set it to "${result.mode}" and run \`osmoda reload gateway\``)
    if (!config.enable) this.warn('channels.telegram.enable is false in gateway.json')
    this.say(result.mode === 'webhook' ? `webhook registered: ${result.url}${result.secret_created ? ' (new secret written)' : ''}` : 'webhook removed; the gateway can long-poll')
    return result
  }
}
