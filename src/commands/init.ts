import {OsmodaCommand} from '../lib/cli/command.js'
import {initState, type InitReport} from '../lib/state-init.js'

export default class Init extends OsmodaCommand<InitReport> {
  static override summary = 'Create osmoda directories, tokens and the node identity.'
  static override description = `Idempotent: run it as often as you like. Missing directories, tokens and keys are created;
existing keys and tokens are never overwritten. As root it uses /run/osmoda, /var/lib/osmoda and /etc/osmoda;
as any other user the XDG directories (override with OSMODA_RUN_DIR, OSMODA_STATE_DIR, OSMODA_CONFIG_DIR).`
  static override examples = ['<%= config.bin %> <%= command.id %>', 'OSMODA_STATE_DIR=/tmp/osm <%= config.bin %> <%= command.id %> --json']

  async run(): Promise<InitReport> {
    await this.parse(Init)
    const report = initState(this.paths)
    if (report.created.length === 0) this.say(`osmoda is already initialised in ${report.state_dir} (instance ${report.instance_id}).`)
    else this.say(`Initialised osmoda (instance ${report.instance_id}):\n${report.created.map((c) => `  + ${c}`).join('\n')}`)
    return report
  }
}
