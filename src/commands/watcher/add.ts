import {Flags} from '@oclif/core'
import {watchApi} from '../../daemons/watch/api.js'
import type {Watcher} from '../../daemons/watch/watcher-api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {jsonFlag, renderWatcher} from '../../lib/cli/watcher-view.js'

export default class WatcherAdd extends OsmodaCommand<Watcher> {
  static override summary = 'Add an autopilot watcher: a health check on a timer with an escalation ladder.'
  static override description = [
    'While the check keeps failing, watch runs the ladder in order: step k waits backoff(k) since the previous action; restart_service and command steps repeat up to watcher.restartAttempts; rollback_generation runs once per episode; after the last step the watcher is escalated.',
    'The check passing for --stable seconds makes it healthy again. Too many actions within the breaker window open the circuit breaker until the window passes or `osmoda watcher reset`.',
    'Without --action: a systemd_unit check restarts the unit, then notifies (critical); other checks notify (warning).',
  ].join('\n\n')
  static override examples = [
    '<%= config.bin %> <%= command.id %> --name nginx --check \'{"type":"systemd_unit","unit":"nginx.service"}\'',
    '<%= config.bin %> <%= command.id %> --name api --check \'{"type":"http_get","url":"http://127.0.0.1:8080/health"}\' --interval 10 --action \'{"type":"command","command":"/usr/local/bin/restart-api"}\' --action \'{"type":"notify","message":"api down","severity":"critical"}\'',
  ]
  static override flags = {
    name: Flags.string({description: 'Unique name (1..64 characters)', required: true}),
    check: Flags.string({description: 'The health check as JSON: {"type":"systemd_unit","unit"}, {"type":"tcp_port","port"}, {"type":"http_get","url"}, {"type":"command","command":"/abs/path","args":[]}', required: true}),
    interval: Flags.integer({description: 'Seconds between checks (5..3600, default 30), ±10 % jitter'}),
    action: Flags.string({description: 'A ladder step as JSON, repeatable, in order (≤8): restart_service {unit}, command {command, args}, rollback_generation, notify {message, severity}', multiple: true}),
    stable: Flags.integer({description: 'Seconds of passing checks before it is healthy again (30..86400, default 300)'}),
  }

  async run(): Promise<Watcher> {
    const {flags} = await this.parse(WatcherAdd)
    const watcher = await this.client('watch', watchApi).watcherAdd({
      name: flags.name,
      check: jsonFlag(flags.check, '--check') as never,
      interval_secs: flags.interval,
      actions: flags.action ? (flags.action.map((text, i) => jsonFlag(text, `--action #${i + 1}`)) as never) : undefined,
      stable_secs: flags.stable,
    })
    this.say(renderWatcher(watcher))
    return watcher
  }
}
