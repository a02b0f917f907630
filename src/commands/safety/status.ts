import type {z} from 'zod'
import {agentdApi} from '../../daemons/agentd/api.js'
import type {SafetyStatus} from '../../daemons/agentd/safety/api.js'
import {localSafetyStatus, safetyStatusWithFallback} from '../../daemons/agentd/safety/client.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {OsmodaError} from '../../lib/errors.js'
import {formatBytes} from '../../lib/cli/table.js'

type Status = z.output<typeof SafetyStatus>

export default class SafetyStatusCommand extends OsmodaCommand<Status> {
  static override summary = 'Show the safety overview: health, osmoda services, NixOS generations, ledger, pending approvals.'
  static override description =
    'Works with agentd down: the facts are then read on this host (memory, load, disks, listening ports, `systemctl is-active osmoda-*` or the daemons\' sockets, generations) and the output says agentd is unreachable.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<Status> {
    await this.parse(SafetyStatusCommand)
    const status = await this.read()
    if (status.source === 'local') this.warn('agentd is unreachable: these facts were read locally on this host (ledger and approvals unknown)')
    this.render(status)
    return status
  }

  private async read(): Promise<Status> {
    const options = {runDir: this.paths.runDir}
    let client
    try {
      client = this.client('agentd', agentdApi)
    } catch (error) {
      // In an emergency a user who cannot read a token still gets the local facts.
      if (!(error instanceof OsmodaError) || error.code !== 'UNAUTHENTICATED') throw error
      this.warn(`${error.message}: agentd was not asked`)
      return localSafetyStatus(options)
    }
    return safetyStatusWithFallback(client, options)
  }

  private render(s: Status): void {
    const h = s.health
    this.say(`agentd       ${s.agentd}${s.source === 'local' ? ' (local facts)' : ''}`)
    this.say(`health       ${h.status}${h.problems.length ? ` (${h.problems.join('; ')})` : ''}`)
    this.say(`host         ${h.hostname}, ${h.cpu_count} cpus, load ${h.load_average.one.toFixed(2)} ${h.load_average.five.toFixed(2)} ${h.load_average.fifteen.toFixed(2)}, up ${Math.round(h.uptime / 3600)} h`)
    this.say(`memory       ${formatBytes(h.memory_used)} used of ${formatBytes(h.memory_total)}, swap ${formatBytes(h.swap_used)} of ${formatBytes(h.swap_total)}`)
    const g = s.generation
    this.say(`generation   ${g ? `current ${g.current ?? '?'}, previous ${g.previous ?? 'none'}, booted ${g.booted ?? '?'}` : 'no Nix system profile'}`)
    this.say(`ledger       ${s.ledger ? `${s.ledger.size} events (${s.ledger.verify_state})` : 'unknown'}`)
    this.say(`approvals    ${s.pending_approvals ?? 'unknown'} pending`)
    this.say('')
    this.table(Object.entries(s.services).map(([service, state]) => ({service, state})), ['service', 'state'])
    this.say('')
    this.table(h.disks.map((d) => ({mount: d.mount_point, used: formatBytes(d.used), total: formatBytes(d.total), use: `${Math.round((100 * d.used) / (d.total || 1))}%`})), ['mount', 'used', 'total', 'use'])
    if (s.listening_ports) {
      this.say('')
      this.table(s.listening_ports, ['proto', 'address', 'port', 'pid', 'process'])
    }
  }
}
