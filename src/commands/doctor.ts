import {Flags} from '@oclif/core'
import {AVAILABLE_DAEMONS} from '../daemons/registry.js'
import {OsmodaCommand} from '../lib/cli/command.js'
import type {DoctorCheck} from '../lib/doctor/check.js'
import {runDoctor, type DoctorReport} from '../lib/doctor/run-doctor.js'
import {OsmodaError, UsageError} from '../lib/errors.js'

const MARK: Record<DoctorCheck['status'], string> = {ok: 'ok  ', warn: 'WARN', fail: 'FAIL'}

export default class Doctor extends OsmodaCommand<DoctorReport> {
  static override summary = 'Check that this host can run osmoda, and say how to fix what cannot.'
  static override description = `Checks Node.js, the run/state/config dirs and their modes, the tokens (mode, .sha256), each daemon's
socket and /health, systemd, bubblewrap (a real sandbox attempt), Nix, free disk space and the ledger (whole
hash chain plus the newest signed checkpoint). Every check is ok, warn or fail, with a fix for the others.
Exit 0 when nothing fails (warnings allowed), 1 when any check fails.
--fix only creates missing directories and resets directory, token and socket modes; it never touches a token's
content, a key or a database.`
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --daemons agentd,watch',
    '<%= config.bin %> <%= command.id %> --fix',
    '<%= config.bin %> <%= command.id %> --json | jq \'.error.details.checks[] | select(.status != "ok")\'',
  ]
  static override flags = {
    fix: Flags.boolean({description: 'Create missing dirs and repair dir, token and socket modes before checking'}),
    daemons: Flags.string({description: `Daemons that must be running, comma-separated (default: ${AVAILABLE_DAEMONS.join(',')})`}),
    'disk-warn-pct': Flags.integer({description: 'Warn when free space on the state dir is below this percent (default 10)', min: 0, max: 100, default: 10}),
    'disk-fail-pct': Flags.integer({description: 'Fail when free space on the state dir is below this percent (default 2)', min: 0, max: 100, default: 2}),
  }

  async run(): Promise<DoctorReport> {
    const {flags} = await this.parse(Doctor)
    const daemons = flags.daemons === undefined ? AVAILABLE_DAEMONS : flags.daemons.split(',').map((d) => d.trim()).filter(Boolean)
    const unknown = daemons.filter((d) => !(AVAILABLE_DAEMONS as readonly string[]).includes(d))
    if (unknown.length) throw new UsageError(`unknown daemon(s): ${unknown.join(', ')}`, {hint: `choose from ${AVAILABLE_DAEMONS.join(', ')}`})
    const report = await runDoctor({paths: this.paths, daemons, fix: flags.fix, disk: {warnPct: flags['disk-warn-pct'], failPct: flags['disk-fail-pct']}})
    for (const line of report.fixed) this.say(`fixed: ${line}`)
    for (const check of report.checks) {
      this.say(`${MARK[check.status]}  ${check.name.padEnd(16)} ${check.detail}`)
      if (check.fix) this.say(`      ${''.padEnd(16)} fix: ${check.fix}`)
    }
    this.say(`\n${report.counts.ok} ok, ${report.counts.warn} warning(s), ${report.counts.fail} failed`)
    if (!report.ok) {
      const failed = report.checks.filter((c) => c.status === 'fail').map((c) => c.name)
      throw new OsmodaError('DOCTOR_FAILED', `${failed.length} check(s) failed: ${failed.join(', ')}`, {details: report, hint: 'apply the fix shown under each failed check', exitCode: 1})
    }
    return report
  }
}
