import {Flags} from '@oclif/core'
import {readFileSync} from 'node:fs'
import {FINAL_STATUSES, watchApi, type SwitchSession} from '../../daemons/watch/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {renderSwitch} from '../../lib/cli/switch-view.js'
import {OsmodaError, UsageError} from '../../lib/errors.js'

const OUTCOME: Record<string, string> = {rolled_back: 'SWITCH_ROLLED_BACK', rollback_failed: 'SWITCH_ROLLBACK_FAILED', failed: 'SWITCH_FAILED'}

export default class SwitchBegin extends OsmodaCommand<SwitchSession> {
  static override summary = 'Start a health-gated switch that rolls back to the exact running system unless its checks pass.'
  static override description = [
    'Activates the target with `switch-to-configuration test`, runs the health checks through a probation period and commits (new profile generation + boot default) only if they still pass at its end; otherwise it activates the recorded previous system again.',
    'With --wait the command follows the session and exits 0 only when it is committed (or, with --dry-run, built); otherwise 1 with SWITCH_ROLLED_BACK, SWITCH_ROLLBACK_FAILED or SWITCH_FAILED.',
  ].join('\n\n')
  static override examples = [
    '<%= config.bin %> <%= command.id %> --plan "enable nginx" --flake /etc/nixos#web1 --check \'{"type":"http_get","url":"http://127.0.0.1/"}\' --wait',
    '<%= config.bin %> <%= command.id %> --plan "back to gen 41" --generation 41 --ttl 120',
    '<%= config.bin %> <%= command.id %> --plan "raise somaxconn" --commands change.json --check \'{"type":"tcp_port","port":443}\' --wait',
  ]
  static override flags = {
    plan: Flags.string({description: 'What the switch does and why (1..500 characters)', required: true}),
    flake: Flags.string({description: 'Build <flake ref>#<host> with nixos-rebuild', exclusive: ['config', 'store-path', 'generation', 'commands']}),
    config: Flags.boolean({description: 'Build /etc/nixos/configuration.nix (the default target)', exclusive: ['flake', 'store-path', 'generation', 'commands']}),
    'store-path': Flags.string({description: 'Switch to an already-built system closure /nix/store/…', exclusive: ['flake', 'config', 'generation', 'commands']}),
    generation: Flags.integer({description: 'Switch to generation N of the system profile', exclusive: ['flake', 'config', 'store-path', 'commands']}),
    commands: Flags.string({description: 'JSON file {"apply":[{"command","args"}],"revert":[…]} for a non-Nix change', exclusive: ['flake', 'config', 'store-path', 'generation']}),
    edit: Flags.string({description: 'PATH=FILE: write FILE\'s content to PATH (under /etc/nixos) before the build; restored on rollback', multiple: true}),
    ttl: Flags.integer({description: 'Probation seconds (30..86400, default from watch config, 300)'}),
    check: Flags.string({description: 'A health check as JSON, repeatable: {"type":"tcp_port","port":80}, {"type":"http_get","url":…}, {"type":"systemd_unit","unit":…}, {"type":"command","command":"/abs/path","args":[]}', multiple: true}),
    grace: Flags.integer({description: 'Seconds after activation in which failures do not count (default 30)'}),
    threshold: Flags.integer({description: 'Consecutive failing ticks that roll back (default 3)'}),
    interval: Flags.integer({description: 'Seconds between checks (default 5)'}),
    'no-baseline': Flags.boolean({description: 'Do not also require agentd and watch to be healthy'}),
    'dry-run': Flags.boolean({description: 'Build only and show the closure diff; nothing is activated'}),
    wait: Flags.boolean({description: 'Follow the session to its end; exit 0 only when committed'}),
  }

  async run(): Promise<SwitchSession> {
    const {flags} = await this.parse(SwitchBegin)
    const client = this.client('watch', watchApi)
    let session = await client.switchBegin({
      plan: flags.plan,
      target: target(flags) as never,
      ttl_secs: flags.ttl,
      health_checks: (flags.check ?? []).map((text, i) => parseJson(text, `--check #${i + 1}`)) as never,
      grace_secs: flags.grace,
      failure_threshold: flags.threshold,
      check_interval_secs: flags.interval,
      baseline_checks: !flags['no-baseline'],
      dry_run: flags['dry-run'],
    })
    this.note(`${session.id} ${session.status}`)
    if (!flags.wait) {
      this.say(renderSwitch(session))
      return session
    }
    let seen: string = session.status
    while (!FINAL_STATUSES.includes(session.status)) {
      await new Promise((resolve) => setTimeout(resolve, 500))
      session = await client.switchGet({id: session.id})
      if (session.status !== seen) this.note(`${session.id} ${(seen = session.status)}${session.probation_ends_at && session.status === 'probation' ? ` until ${session.probation_ends_at}` : ''}`)
    }
    this.say(renderSwitch(session))
    const code = OUTCOME[session.status]
    if (code) throw new OsmodaError(code, `switch ${session.id} ended ${session.status}: ${session.reason ?? 'no reason recorded'}`, {details: {switch: session}, exitCode: 1})
    return session
  }
}

function target(flags: {flake?: string; config?: boolean; 'store-path'?: string; generation?: number; commands?: string; edit?: string[]}): unknown {
  if (flags.commands) return {type: 'commands', ...(parseJson(readText(flags.commands, '--commands'), '--commands') as object)}
  const edits = (flags.edit ?? []).map((pair) => {
    const at = pair.indexOf('=')
    if (at <= 0) throw new UsageError(`--edit ${pair}: expected PATH=FILE`)
    return {path: pair.slice(0, at), content: readText(pair.slice(at + 1), '--edit')}
  })
  const source = flags.flake ? {flake: flags.flake} : flags['store-path'] ? {store_path: flags['store-path']} : flags.generation !== undefined ? {generation: flags.generation} : {config: true}
  return {type: 'nixos', source, ...(edits.length ? {edits} : {})}
}

function readText(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new UsageError(`${what} is not valid JSON: ${(error as Error).message}`)
  }
}
