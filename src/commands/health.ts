import type {z} from 'zod'
import {agentdApi, type AgentdHealth} from '../daemons/agentd/api.js'
import {OsmodaCommand} from '../lib/cli/command.js'
import {formatBytes} from '../lib/cli/table.js'

type Health = z.output<typeof AgentdHealth>

export default class HealthCommand extends OsmodaCommand<Health> {
  static override summary = "Show this server's health: CPU, memory, disks, load and the ledger."
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<Health> {
    await this.parse(HealthCommand)
    const health = await this.client('agentd', agentdApi).health()
    const cpu = health.cpu_usage.length ? `${(health.cpu_usage.reduce((a, b) => a + b, 0) / health.cpu_usage.length).toFixed(0)}%` : 'sampling'
    const lines = [
      `${health.hostname}: ${health.status}${health.problems?.length ? ` (${health.problems.join('; ')})` : ''}`,
      `  cpu     ${health.cpu_count} cores, ${cpu} busy, load ${health.load_average.one.toFixed(2)} ${health.load_average.five.toFixed(2)} ${health.load_average.fifteen.toFixed(2)}`,
      `  memory  ${formatBytes(health.memory_used)} of ${formatBytes(health.memory_total)} used, ${formatBytes(health.memory_available)} available`,
      ...health.disks.map((d) => `  disk    ${d.mount_point}: ${formatBytes(d.used)} of ${formatBytes(d.total)} used`),
      `  ledger  ${health.ledger.size} events, verify ${health.ledger.verify_state}${health.ledger.first_bad_seq ? ` (first bad seq ${health.ledger.first_bad_seq})` : ''}, last checkpoint ${health.ledger.last_checkpoint_size ?? 'none'}`,
      `  sandbox ${health.sandbox.available ? 'available' : `unavailable (${health.sandbox.reason})`}, nix ${health.nix.available ? 'available' : 'unavailable'}`,
    ]
    this.say(lines.join('\n'))
    return health
  }
}
