import {Args} from '@oclif/core'
import {meshApi, type Peer} from '../../../daemons/mesh/api.js'
import {OsmodaCommand} from '../../../lib/cli/command.js'
import {renderPeer} from '../../../lib/cli/mesh-view.js'

export default class MeshPeerShow extends OsmodaCommand<Peer> {
  static override summary = 'Show one mesh peer: state, endpoint, keys and counters.'
  static override examples = ['<%= config.bin %> <%= command.id %> 3f2a9c…']
  static override args = {id: Args.string({description: 'Peer id (instance_id, 32 hex)', required: true})}

  async run(): Promise<Peer> {
    const {args} = await this.parse(MeshPeerShow)
    const peer = await this.client('mesh', meshApi).peerGet({peer_id: args.id})
    this.say(renderPeer(peer))
    return peer
  }
}
