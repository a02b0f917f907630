import {Flags} from '@oclif/core'
import {meshApi} from '../../daemons/mesh/api.js'
import type {IdentityDoc} from '../../daemons/mesh/identity.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {confirmOrYes} from '../../lib/cli/mesh-view.js'
import {UsageError} from '../../lib/errors.js'

export default class MeshRotate extends OsmodaCommand<IdentityDoc> {
  static override summary = 'Replace the mesh Noise key (new instance_id); connected peers re-pin it and reconnect.'
  static override description = 'The Ed25519 node key vouches for the new key to every connected peer. Peers that are offline during the rotation must be paired again with a new invite.'
  static override examples = ['<%= config.bin %> <%= command.id %> --yes']
  static override flags = {yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation (required without a terminal)'})}

  async run(): Promise<IdentityDoc> {
    const {flags} = await this.parse(MeshRotate)
    if (!(await confirmOrYes(flags.yes, 'Rotate the mesh key? Offline peers will need a new invite.'))) throw new UsageError('rotating the mesh key needs --yes without a terminal (or a "y" answer)', {code: 'USAGE'})
    const doc = await this.client('mesh', meshApi).identityRotate({})
    this.say(`new instance_id ${doc.instance_id}`)
    return doc
  }
}
