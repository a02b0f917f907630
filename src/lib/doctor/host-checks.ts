import {readFileSync} from 'node:fs'
import {runProcess} from '../exec/run.js'
import {which} from '../exec/which.js'
import {fail, ok, warn, type DoctorCheck} from './check.js'

/** systemd as PID 1; without it `osmoda up` supervises the daemons, which is a warning, not a failure. */
export function checkSystemd(comm: () => string = () => readFileSync('/proc/1/comm', 'utf8').trim()): DoctorCheck {
  let pid1: string
  try {
    pid1 = comm()
  } catch (error) {
    return warn('systemd', `cannot read /proc/1/comm: ${(error as Error).message}`, 'without systemd, run the stack with `osmoda up`')
  }
  if (pid1 === 'systemd') return ok('systemd', 'PID 1 is systemd')
  return warn('systemd', `not PID 1 (PID 1 is ${pid1}): osmoda up supervises the daemons; service_status, app_* and journal reads answer SYSTEMD_UNAVAILABLE`, 'run the stack with `osmoda up`, or install on a systemd host (NixOS module)')
}

/** bubblewrap is installed and can really build a sandbox (user, pid, net, mount namespaces). */
export async function checkBubblewrap(): Promise<DoctorCheck> {
  const bwrap = await which('bwrap')
  if (!bwrap) return fail('bubblewrap', 'bwrap is not on PATH: sandboxed exec (tier 1/2) cannot run', 'install bubblewrap (Debian: apt-get install bubblewrap; NixOS: the osmoda module adds it)')
  const trueBin = (await which('true')) ?? '/bin/true'
  // The same namespaces a sandbox uses; the host is bound read-only so `true` can be found.
  const argv = [bwrap, '--unshare-all', '--die-with-parent', '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', trueBin]
  const result = await runProcess(argv, {timeoutMs: 10_000, maxOutputBytes: 4096}).catch((error: Error) => ({exitCode: -1, stderr: error.message, timedOut: false}))
  if (result.exitCode === 0) return ok('bubblewrap', `${bwrap} --unshare-all works`)
  const why = result.timedOut ? 'timed out after 10 s' : result.stderr.trim().slice(0, 300) || `exit ${String(result.exitCode)}`
  return fail('bubblewrap', `${bwrap} cannot create a sandbox: ${why}`, 'allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0) or install bwrap setuid')
}

/** Nix is installed (SafeSwitch builds and switches generations with it). */
export async function checkNix(): Promise<DoctorCheck> {
  const nixEnv = await which('nix-env')
  if (!nixEnv) return fail('nix', 'nix-env is not on PATH: SafeSwitch cannot build or switch generations', 'install Nix (Debian: apt-get install nix-bin; NixOS has it)')
  const result = await runProcess([nixEnv, '--version'], {timeoutMs: 10_000, maxOutputBytes: 4096}).catch((error: Error) => ({exitCode: -1, stdout: '', stderr: error.message}))
  if (result.exitCode !== 0) return fail('nix', `${nixEnv} --version failed: ${result.stderr.trim().slice(0, 300)}`, 'repair the Nix installation (nix-env --version must work)')
  return ok('nix', `${result.stdout.trim()} (${nixEnv})`)
}
