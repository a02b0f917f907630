import {Flags} from '@oclif/core'
import {fileURLToPath} from 'node:url'
import {OsmodaCommand} from '../lib/cli/command.js'
import {ConflictError, UsageError} from '../lib/errors.js'
import {commonApi} from '../lib/daemon/common-api.js'
import {initState} from '../lib/state-init.js'
import {createSupervisor, type SupervisedState} from '../lib/supervisor.js'
import {resolveToken} from '../lib/tokens.js'
import {AVAILABLE_DAEMONS, DAEMONS, isAvailableDaemon} from '../daemons/registry.js'

interface UpResult {
  daemons: SupervisedState[]
}

export default class Up extends OsmodaCommand<UpResult> {
  static override summary = 'Run the osmoda stack locally (a small supervisor for machines without the NixOS module).'
  static override description = `Runs \`osmoda init\`, starts agentd, then the other daemons once agentd answers, and keeps them running:
a daemon that crashes is restarted after 1 s, 2 s, 4 s … up to 30 s (reset after a stable minute).
Ctrl-C stops everything cleanly. Without root, state lives in the XDG directories.`
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --only agentd', '<%= config.bin %> <%= command.id %> --single-process']
  static override flags = {
    only: Flags.string({description: `Comma-separated daemons to run (default: all of ${AVAILABLE_DAEMONS.join(', ')})`}),
    'single-process': Flags.boolean({description: 'Host every daemon in this one Node process (saves memory)'}),
    'no-init': Flags.boolean({description: 'Skip `osmoda init`'}),
  }

  async run(): Promise<UpResult> {
    const {flags} = await this.parse(Up)
    const daemons = flags.only ? flags.only.split(',').map((s) => s.trim()).filter(Boolean) : [...AVAILABLE_DAEMONS]
    const unknown = daemons.filter((d) => !isAvailableDaemon(d))
    if (unknown.length) throw new UsageError(`unknown daemon(s): ${unknown.join(', ')}`, {hint: `available: ${AVAILABLE_DAEMONS.join(', ')}`})
    // agentd first: the others call it at start.
    daemons.sort((a, b) => AVAILABLE_DAEMONS.indexOf(a as never) - AVAILABLE_DAEMONS.indexOf(b as never))

    if (!flags['no-init']) initState(this.paths)
    const paths = this.paths
    await this.refuseIfRunning(daemons)
    const supervisor = createSupervisor({
      daemons,
      paths,
      token: resolveToken(paths),
      singleProcess: flags['single-process'],
      cli: [process.execPath, fileURLToPath(new URL('../../bin/run.js', import.meta.url))],
      load: (name) => DAEMONS[name as keyof typeof DAEMONS](),
      onChange: (s) => this.note(`${new Date().toISOString().slice(11, 19)}  ${s.name.padEnd(8)} ${s.state}${s.pid ? ` (pid ${s.pid})` : ''}${s.state === 'backoff' && s.last_exit ? `: ${s.last_exit}` : ''}`),
    })

    const stopped = new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop)
        process.off('SIGTERM', stop)
        this.note('stopping…')
        void supervisor.stop().then(resolve)
      }
      process.on('SIGINT', stop)
      process.on('SIGTERM', stop)
    })

    const results = await supervisor.start()
    const failed = results.filter((r) => r.error)
    this.note(
      [
        '',
        `osmoda is up (${flags['single-process'] ? 'single process' : 'one process per daemon'}). Ctrl-C stops everything.`,
        `  sockets  ${daemons.map((d) => paths.socket(d)).join(', ')}`,
        `  tokens   ${paths.tokensDir}/operator (you), ${paths.tokensDir}/agent (the agent runtime)`,
        `  ledger   ${paths.ledgerDb}`,
        flags['single-process'] ? '' : `  logs     ${paths.stateDir}/logs/<daemon>.log`,
        '  try      osmoda health · osmoda events --follow · osmoda verify-ledger',
        ...failed.map((f) => `  ! ${f.name} failed to start: ${f.error} (retrying)`),
        '',
      ]
        .filter((l) => l !== '')
        .join('\n'),
    )
    await stopped
    return {daemons: supervisor.states()}
  }

  /** A second supervisor would fight the first over the sockets: say so instead. */
  private async refuseIfRunning(daemons: string[]): Promise<void> {
    for (const daemon of daemons) {
      const health = await this.client(daemon, commonApi)
        .health(undefined, {timeoutMs: 2000})
        .catch(() => null)
      if (health) {
        throw new ConflictError(`${daemon} is already running (pid ${health.pid}) on ${this.paths.socket(daemon)}`, {
          code: 'ALREADY_EXISTS',
          hint: 'stop the other `osmoda up` (or the osmoda services) first, or use OSMODA_RUN_DIR/OSMODA_STATE_DIR for a second stack',
        })
      }
    }
  }
}
