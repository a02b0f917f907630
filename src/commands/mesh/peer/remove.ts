import {Args, Flags} from '@oclif/core'
import {meshApi} from '../../../daemons/mesh/api.js'
import {OsmodaCommand} from '../../../lib/cli/command.js'
import {confirmOrYes} from '../../../lib/cli/mesh-view.js'
import {UsageError} from '../../../lib/errors.js'

export default class MeshPeerRemove extends OsmodaCommand<{removed: string}> {
  static override summary = 'Disconnect a peer and drop its pinned keys (pairing again needs a new invite).'
  static override examples = ['<%= config.bin %> <%= command.id %> 3f2a9c… --yes']
  static override args = {id: Args.string({description: 'Peer id (instance_id)', required: true})}
  static override flags = {yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation (required without a terminal)'})}

  async run(): Promise<{removed: string}> {
    const {args, flags} = await this.parse(MeshPeerRemove)
    if (!(await confirmOrYes(flags.yes, `Remove mesh peer ${args.id}?`))) throw new UsageError('removing a peer needs --yes without a terminal (or a "y" answer)', {code: 'USAGE'})
    const result = await this.client('mesh', meshApi).peerRemove({peer_id: args.id})
    this.say(`removed ${result.removed}`)
    return result
  }
}
