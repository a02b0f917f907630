import {OsmodaCommand} from '../lib/cli/command.js'
import {commonApi} from '../lib/daemon/common-api.js'
import {AVAILABLE_DAEMONS} from '../daemons/registry.js'
import {OsmodaError} from '../lib/errors.js'

interface DaemonStatus {
  daemon: string
  status: string
  version: string | null
  pid: number | null
  uptime_secs: number | null
  problem: string | null
}

export default class Status extends OsmodaCommand<{daemons: DaemonStatus[]}> {
  static override summary = 'One line per daemon: is it up, healthy, and since when.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<{daemons: DaemonStatus[]}> {
    await this.parse(Status)
    const daemons = await Promise.all(
      AVAILABLE_DAEMONS.map(async (daemon): Promise<DaemonStatus> => {
        try {
          const health = await this.client(daemon, commonApi).health(undefined, {timeoutMs: 5000})
          return {daemon, status: health.status, version: health.version, pid: health.pid, uptime_secs: Math.round(health.uptime_secs), problem: health.problems?.join('; ') || null}
        } catch (error) {
          const code = error instanceof OsmodaError ? error.code : 'INTERNAL'
          return {daemon, status: code === 'DAEMON_UNAVAILABLE' ? 'down' : 'error', version: null, pid: null, uptime_secs: null, problem: (error as Error).message}
        }
      }),
    )
    this.table(daemons, ['daemon', 'status', 'pid', 'uptime_secs', 'version', 'problem'])
    return {daemons}
  }
}
