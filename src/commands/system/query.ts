import {Args, Flags} from '@oclif/core'
import {agentdApi} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {UsageError} from '../../lib/errors.js'

const QUERIES = ['processes', 'disk', 'hostname', 'uptime', 'services', 'ports', 'connections', 'generations'] as const

export default class SystemQuery extends OsmodaCommand<{query: string; result: unknown}> {
  static override summary = 'Query host facts: processes, disk, hostname, uptime, services, ports, connections, generations.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> processes --arg sort=memory --arg limit=10',
    '<%= config.bin %> <%= command.id %> ports --json',
  ]
  static override args = {query: Args.string({description: 'What to query', required: true, options: [...QUERIES]})}
  static override flags = {
    arg: Flags.string({description: 'Query argument as key=value (repeatable), e.g. sort=memory, limit=10', multiple: true}),
  }

  async run(): Promise<{query: string; result: unknown}> {
    const {args, flags} = await this.parse(SystemQuery)
    const queryArgs: Record<string, unknown> = {}
    for (const pair of flags.arg ?? []) {
      const eq = pair.indexOf('=')
      if (eq <= 0) throw new UsageError(`--arg ${pair}: expected key=value`)
      const value = pair.slice(eq + 1)
      queryArgs[pair.slice(0, eq)] = /^-?\d+$/.test(value) ? Number(value) : value
    }
    const answer = await this.client('agentd', agentdApi).systemQuery({query: args.query as (typeof QUERIES)[number], args: queryArgs})
    const rows = answer.result
    if (Array.isArray(rows) && rows.length && typeof rows[0] === 'object') this.table(rows as Record<string, unknown>[], Object.keys(rows[0] as object))
    else this.say(JSON.stringify(rows, null, 2))
    return answer
  }
}
