import type {z} from 'zod'
import {gatewayApi} from '../../daemons/gateway/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Credentials = z.output<typeof gatewayApi.credentialsList.output>

export default class GatewayCredentials extends OsmodaCommand<Credentials> {
  static override summary = 'List the gateway credentials (previews only; secrets never leave the gateway).'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<Credentials> {
    await this.parse(GatewayCredentials)
    const listed = await this.client('gateway', gatewayApi).credentialsList()
    if (!listed.credentials.length) this.say('no credentials (add one in the web UI or with POST /config/credentials)')
    else this.table(listed.credentials, ['id', 'label', 'provider', 'type', 'secret_preview', 'is_default', 'last_test_ok', 'last_used_at'])
    return listed
  }
}
