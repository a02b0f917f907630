import {Flags} from '@oclif/core'
import {AVAILABLE_DAEMONS} from '../daemons/registry.js'
import {OsmodaCommand} from '../lib/cli/command.js'
import {EXIT, UsageError} from '../lib/errors.js'
import {resolveToken} from '../lib/tokens.js'

export default class Tui extends OsmodaCommand<void> {
  static override summary = 'Live dashboard: daemon health, the ledger as it is written, approvals, SafeSwitch and watchers.'
  static override description = `Shows every daemon's state, uptime and memory; the ledger's events as they are appended (coloured by
domain, filterable by type and actor, pausable); the pending approvals, which you approve (a) or deny (d) with
the operator token after a y/n confirmation; the active SafeSwitch session and the watchers. Press ? for all keys.
If agentd restarts, the log reconnects with back-off and resumes from the last seq it showed.
Without a terminal it renders read-only; stop it with Ctrl-C. For a machine-readable stream use
\`osmoda events --follow --json\`.`
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --filter "approval.*"',
    '<%= config.bin %> <%= command.id %> --actor agent:ops',
  ]
  static override flags = {
    filter: Flags.string({description: 'Start with this event type filter: exact (tool.called), prefix (switch.*) or bare domain'}),
    actor: Flags.string({description: 'Start with this actor filter (agentd, agent:<id>, operator:<user>)'}),
    backlog: Flags.integer({description: 'Events shown from before the start (0..1000, default 20)', min: 0, max: 1000, default: 20}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Tui)
    if (this.jsonEnabled()) throw new UsageError('the dashboard has no JSON form', {hint: 'use `osmoda events --follow --json` (NDJSON) or `osmoda status --json`'})
    // Ink and React cost ~250 ms to import: only this command loads them.
    const [{createTuiSources}, {runTui}] = await Promise.all([import('../lib/tui/sources.js'), import('../lib/tui/run-tui.js')])
    const user = process.env.SUDO_USER ?? process.env.USER
    const headers = user && /^[a-z_][a-z0-9_-]{0,31}$/.test(user) ? {'x-osmoda-operator': user} : undefined
    const sources = createTuiSources({paths: this.paths, token: resolveToken(this.paths), daemons: AVAILABLE_DAEMONS, headers})
    const controller = new AbortController()
    const interrupt = () => controller.abort()
    // \`on\`, not \`once\`: Ink's signal-exit re-raises a signal that no other listener handles.
    process.on('SIGINT', interrupt)
    process.on('SIGTERM', interrupt)
    try {
      await runTui({sources, initialFilter: {type: flags.filter, actor: flags.actor}, backlog: flags.backlog}, controller.signal)
    } finally {
      process.off('SIGINT', interrupt)
      process.off('SIGTERM', interrupt)
      sources.close()
    }
    if (controller.signal.aborted) process.exitCode = EXIT.INTERRUPTED
  }
}
