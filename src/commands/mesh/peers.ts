import {Flags} from '@oclif/core'
import {meshApi, type Peer} from '../../daemons/mesh/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {peerRows} from '../../lib/cli/mesh-view.js'

export default class MeshPeers extends OsmodaCommand<{peers: Peer[]}> {
  static override summary = 'List paired mesh peers and their connection state.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --state connected --json']
  static override flags = {state: Flags.option({options: ['disconnected', 'connecting', 'connected', 'failed'] as const, description: 'Only peers in this state'})()}

  async run(): Promise<{peers: Peer[]}> {
    const {flags} = await this.parse(MeshPeers)
    const result = await this.client('mesh', meshApi).peers({state: flags.state})
    if (result.peers.length) this.table(peerRows(result.peers), ['id', 'label', 'state', 'endpoint', 'last_seen', 'received'])
    else this.say('no peers (pair with `osmoda mesh invite create` here and `osmoda mesh invite accept <code>` on the other server)')
    return result
  }
}
