import type {z} from 'zod'
import {meshApi, type IdentityView} from '../../daemons/mesh/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Identity = z.output<typeof IdentityView>

export default class MeshIdentity extends OsmodaCommand<Identity> {
  static override summary = "Show this server's mesh identity (instance_id, public keys, endpoint)."
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<Identity> {
    await this.parse(MeshIdentity)
    const identity = await this.client('mesh', meshApi).identity({})
    this.say(`instance_id   ${identity.instance_id}\ned25519       ${identity.ed25519_pubkey}\nnoise static  ${identity.noise_static_pubkey}\nendpoint      ${identity.endpoint ?? '-'}\nkem           ${identity.kem}`)
    return identity
  }
}
