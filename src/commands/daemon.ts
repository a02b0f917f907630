import {Args, Flags} from '@oclif/core'
import {OsmodaCommand} from '../lib/cli/command.js'
import {runDaemonProcess} from '../lib/daemon/process.js'
import {LOG_LEVELS} from '../lib/log.js'
import {AVAILABLE_DAEMONS, DAEMONS, isAvailableDaemon} from '../daemons/registry.js'

export default class Daemon extends OsmodaCommand<{daemon: string; stopped: true}> {
  static override summary = 'Run one osmoda daemon in the foreground.'
  static override description = `This is what systemd runs as osmoda-<name>.service (and what \`osmoda up\` supervises).
The daemon serves HTTP on <run>/<name>.sock, reports readiness to systemd when NOTIFY_SOCKET is set,
reloads on SIGHUP and drains and exits 0 on SIGTERM or Ctrl-C.`
  static override examples = ['<%= config.bin %> <%= command.id %> agentd', '<%= config.bin %> <%= command.id %> agentd --log-level debug --config ./agentd.json']
  static override args = {
    name: Args.string({description: `Daemon to run (${AVAILABLE_DAEMONS.join(', ')})`, required: true, options: AVAILABLE_DAEMONS}),
  }
  static override flags = {
    config: Flags.string({description: 'Config file (default <config>/<name>.json)'}),
    'log-level': Flags.option({options: LOG_LEVELS, description: 'Log level (overrides config and OSMODA_LOG_LEVEL)'})(),
  }

  async run(): Promise<{daemon: string; stopped: true}> {
    const {args, flags} = await this.parse(Daemon)
    if (!isAvailableDaemon(args.name)) throw new Error(`unknown daemon ${args.name}`)
    const definition = await DAEMONS[args.name]()
    await runDaemonProcess(definition, {paths: this.paths, configFile: flags.config, logLevel: flags['log-level']})
    return {daemon: args.name, stopped: true}
  }
}
