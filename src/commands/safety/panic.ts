import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {agentdApi} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Answer = z.output<typeof agentdApi.safetyPanic.output>

export default class SafetyPanic extends OsmodaCommand<Answer> {
  static override summary = 'Stop every osmoda service but agentd (the gateway last), then roll NixOS back.'
  static override description =
    'Emergency stop, run at once (never gated for the operator): osmoda-routines, -watch, -teachd, -mcpd, -voice, -mesh, -keyd, -egress, then osmoda-gateway; then a rollback to the previous generation unless --no-rollback. Needs systemd.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --no-rollback --reason "agent misbehaving"']
  static override flags = {
    rollback: Flags.boolean({description: 'Roll back to the previous NixOS generation after stopping (default; --no-rollback to skip)', allowNo: true, default: true}),
    reason: Flags.string({description: 'Why (at most 500 characters; kept in the ledger)'}),
  }

  async run(): Promise<Answer> {
    const {flags} = await this.parse(SafetyPanic)
    const answer = await this.client('agentd', agentdApi).safetyPanic({rollback: flags.rollback, reason: flags.reason})
    this.say(`stopping ${answer.stopping.join(', ')}${answer.rollback ? '; then rolling back' : ''}`)
    if (flags.rollback && !answer.rollback) this.warn('no rollback will follow: there is no Nix system profile or no older generation')
    return answer
  }
}
