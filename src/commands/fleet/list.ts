import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {watchApi} from '../../daemons/watch/api.js'
import {FLEET_PHASES} from '../../daemons/watch/fleet-api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Page = z.output<typeof watchApi.fleetList.output>

export default class FleetList extends OsmodaCommand<Page> {
  static override summary = 'List fleet proposals, newest first.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --phase voting --json']
  static override flags = {
    phase: Flags.option({options: FLEET_PHASES, description: 'Only proposals in this phase'})(),
    limit: Flags.integer({description: 'How many (default 20, at most 200)'}),
    cursor: Flags.string({description: 'next_cursor of the previous page'}),
  }

  async run(): Promise<Page> {
    const {flags} = await this.parse(FleetList)
    const page = await this.client('watch', watchApi).fleetList({phase: flags.phase, limit: flags.limit, cursor: flags.cursor})
    this.table(
      page.proposals.map((p) => ({
        id: p.id,
        phase: p.phase,
        role: p.role,
        quorum: `${p.participants.filter((x) => x.vote === 'approve').length}/${p.quorum_required}`,
        nodes: String(p.participants.length),
        plan: p.plan.slice(0, 60),
      })),
      ['id', 'phase', 'role', 'quorum', 'nodes', 'plan'],
    )
    if (page.next_cursor) this.note(`more: --cursor ${page.next_cursor}`)
    return page
  }
}
