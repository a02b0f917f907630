import type {z} from 'zod'
import {meshApi, type MeshHealth as Health} from '../../daemons/mesh/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type MeshHealthResult = z.output<typeof Health>

export default class MeshHealth extends OsmodaCommand<MeshHealthResult> {
  static override summary = 'Show the mesh daemon status.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<MeshHealthResult> {
    await this.parse(MeshHealth)
    const health = await this.client('mesh', meshApi).health({})
    this.say(`mesh ${health.status}: ${health.connected_count}/${health.peer_count} peers connected, listening on ${health.listen_address ?? '-'}, instance ${health.instance_id}`)
    return health
  }
}
