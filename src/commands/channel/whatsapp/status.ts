import {OsmodaCommand} from '../../../lib/cli/command.js'
import type {WhatsappStatusResult} from '../../../daemons/gateway/channels/client.js'

export default class ChannelWhatsappStatus extends OsmodaCommand<WhatsappStatusResult> {
  static override summary = 'Show the WhatsApp channel: phone number id, Graph API, whether its secret files are readable.'
  static override description = 'Local checks only. Point the Cloud API webhook at https://<your host>/whatsapp/webhook with the verify token from verifyTokenFile.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<WhatsappStatusResult> {
    await this.parse(ChannelWhatsappStatus)
    const {readChannelsConfig, whatsappStatus} = await import('../../../daemons/gateway/channels/client.js')
    const status = whatsappStatus(readChannelsConfig(this.paths).whatsapp)
    this.table([{...status, ...status.secrets}], ['enabled', 'phone_number_id', 'access_token', 'app_secret', 'verify_token', 'allowed_numbers'])
    for (const [name, ok] of Object.entries(status.secrets)) if (status.enabled && !ok) this.warn(`${name} file is not readable`)
    return status
  }
}
