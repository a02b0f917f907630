import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {agentdApi, sandboxClientTimeoutMs, type SandboxExecOutput} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {UsageError} from '../../lib/errors.js'

type Result = z.output<typeof SandboxExecOutput>

export default class SandboxExec extends OsmodaCommand<Result> {
  static override summary = 'Run a command in a bubblewrap sandbox (tier 2: no network, no host files; tier 1: what a capability grants).'
  static override description =
    'The command runs on this host through agentd as the unprivileged sandbox user. Its stdout and stderr are printed as they were ' +
    'captured; the exit code is 1 when the command failed or timed out (the command\'s own code is in --json).'
  static override examples = [
    '<%= config.bin %> <%= command.id %> -- python3 -c "print(2 ** 10)"',
    '<%= config.bin %> <%= command.id %> --command "ls / | wc -l" --json',
    'OSMODA_CAPABILITY=osmcap1.… <%= config.bin %> <%= command.id %> --tier 1 --cwd /srv/data -- ls -l',
  ]
  static override strict = false
  static override flags = {
    tier: Flags.option({options: ['1', '2'] as const, default: '2', description: 'Sandbox tier'})(),
    capability: Flags.string({description: 'Capability token for tier 1 (osmcap1…); prefer the env variable, argv is visible to other users', env: 'OSMODA_CAPABILITY'}),
    command: Flags.string({description: 'A shell command line, run by /bin/sh -c inside the sandbox (instead of argv after --)'}),
    cwd: Flags.string({description: 'Working directory inside the sandbox (default /tmp)'}),
    input: Flags.string({description: 'Text fed to the command\'s stdin (at most 65536 bytes)'}),
    timeout: Flags.integer({description: 'Deadline in seconds (default 60)', min: 1, max: 600}),
    'max-output': Flags.integer({description: 'Cap per stream in bytes (default 65536)', min: 1024, max: 262_144}),
  }

  async run(): Promise<Result> {
    const {argv, flags} = await this.parse(SandboxExec)
    const words = argv as string[]
    if ((words.length === 0) === (flags.command === undefined)) throw new UsageError('give the command after -- or with --command (one of them)', {hint: 'osmoda sandbox exec -- echo hello'})
    const result = await this.client('agentd', agentdApi).sandboxExec({
      ...(flags.command === undefined ? {argv: words} : {command: flags.command}),
      tier: flags.tier === '1' ? 1 : 2,
      capability: flags.capability,
      cwd: flags.cwd,
      stdin: flags.input,
      timeout_secs: flags.timeout,
      max_output_bytes: flags['max-output'],
    }, {timeoutMs: sandboxClientTimeoutMs(flags.timeout)})
    for (const warning of result.warnings) this.warn(warning)
    if (!this.jsonEnabled()) {
      process.stdout.write(result.stdout)
      process.stderr.write(result.stderr)
      if (result.timed_out) this.note(`timed out after ${result.duration_ms} ms`)
      else if (result.exit_code !== 0) this.note(`exit code ${result.exit_code ?? result.signal}`)
      if (result.timed_out || result.exit_code !== 0) process.exitCode = 1
    }
    return result
  }
}
