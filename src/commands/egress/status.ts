import type {z} from 'zod'
import {egressApi} from '../../daemons/egress/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Health = z.output<typeof egressApi.health.output>

export default class EgressStatus extends OsmodaCommand<Health> {
  static override summary = "Show egress's state: live tunnels, allowed/denied counts, whether the revocation list is fresh."
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<Health> {
    await this.parse(EgressStatus)
    const h = await this.client('egress', egressApi).health()
    this.say(`egress ${h.status}: ${h.tunnels_active} tunnels, ${h.allowed_total} allowed, ${h.denied_total} denied since start; revocations ${h.revocations_fresh ? 'fresh' : 'STALE (tokens refused)'}`)
    this.say(`listening on ${h.listen.address}:${h.listen.port ?? '-'} and ${h.listen.proxy_socket}`)
    for (const problem of h.problems ?? []) this.warn(problem)
    return h
  }
}
