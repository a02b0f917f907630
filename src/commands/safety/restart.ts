import type {z} from 'zod'
import {agentdApi} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Answer = z.output<typeof agentdApi.safetyRestart.output>

export default class SafetyRestart extends OsmodaCommand<Answer> {
  static override summary = 'Restart osmoda-gateway in 2 seconds (from a transient systemd timer).'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<Answer> {
    await this.parse(SafetyRestart)
    const answer = await this.client('agentd', agentdApi).safetyRestart()
    this.say(`${answer.unit} restarts in ${answer.delay_secs} s`)
    return answer
  }
}
