import {existsSync} from 'node:fs'
import {OsmodaError} from '../../../lib/errors.js'
import {runProcess} from '../../../lib/exec/run.js'
import {which} from '../../../lib/exec/which.js'
import {isUnder, type Mask} from './masks.js'

/** SPEC §2.1 shell_exec: the namespaces and mounts of every sandbox-mode command, in order. */
export const SANDBOX_BASE_FLAGS = [
  '--die-with-parent',
  '--new-session',
  '--unshare-pid',
  '--unshare-ipc',
  '--unshare-uts',
  '--unshare-net',
  '--unshare-cgroup-try',
  '--cap-drop',
  'ALL',
  '--ro-bind',
  '/',
  '/',
  '--dev',
  '/dev',
  '--proc',
  '/proc',
  '--tmpfs',
  '/tmp',
  '--tmpfs',
  '/run',
] as const

/**
 * Kernel knobs a sandboxed root could still write: uid 0 keeps owner access to /proc/sys even
 * without capabilities, and bwrap does not always cover it (it skips what it cannot probe, as in
 * containers). Writing there would change the host (core_pattern, sysrq), so both are re-bound
 * read-only on top of the SPEC's flags.
 */
export const SANDBOX_PROC_COVERS = ['--ro-bind-try', '/proc/sys', '/proc/sys', '--ro-bind-try', '/proc/sysrq-trigger', '/proc/sysrq-trigger'] as const

/** Host paths under /run that stay visible (read-only) inside the sandbox when they exist. */
export const SANDBOX_REBINDS = ['/run/current-system', '/run/booted-system', '/run/log'] as const

/** Dirs that are fresh tmpfs mounts inside the sandbox: a host path under them is invisible anyway. */
export function hiddenBySandbox(path: string, rebinds: readonly string[] = SANDBOX_REBINDS): boolean {
  if (isUnder(path, '/tmp')) return true
  return isUnder(path, '/run') && !rebinds.some((dir) => isUnder(path, dir))
}

/**
 * The bwrap argv that runs `argv` in `cwd` with a read-only view of the host: the SPEC's base
 * flags, read-only /proc/sys, read-only re-binds of the /run paths that exist, then every mask (a read-only tmpfs over
 * a directory, /dev/null over a file). Masks come last so a re-bind cannot uncover one.
 */
export function sandboxArgv(bwrap: string, argv: readonly string[], options: {cwd: string; masks: readonly Mask[]; rebinds?: readonly string[]}): string[] {
  const out: string[] = [bwrap, ...SANDBOX_BASE_FLAGS, ...SANDBOX_PROC_COVERS]
  for (const dir of options.rebinds ?? SANDBOX_REBINDS.filter((path) => existsSync(path))) out.push('--ro-bind', dir, dir)
  for (const mask of options.masks) {
    if (mask.kind === 'dir') out.push('--tmpfs', mask.path, '--remount-ro', mask.path)
    else out.push('--ro-bind', '/dev/null', mask.path)
  }
  out.push('--chdir', options.cwd, '--', ...argv)
  return out
}

/** Whether bubblewrap can build a sandbox here, and why not. */
export interface SandboxProbe {
  available: boolean
  bwrap: string | null
  reason: string | null
}

/** Runs `bwrap <base flags> -- true`: finds a missing binary, missing user namespaces or a refused mount before any real command. */
export async function probeSandbox(path?: string): Promise<SandboxProbe> {
  const bwrap = await which('bwrap', path === undefined ? {} : {path})
  if (!bwrap) return {available: false, bwrap: null, reason: 'bubblewrap (bwrap) is not installed'}
  const trueBin = (await which('true', path === undefined ? {} : {path})) ?? '/bin/true'
  const result = await runProcess(sandboxArgv(bwrap, [trueBin], {cwd: '/', masks: [], rebinds: []}), {timeoutMs: 10_000, maxOutputBytes: 4096}).catch((error: Error) => ({exitCode: -1, stderr: error.message}))
  if (result.exitCode === 0) return {available: true, bwrap, reason: null}
  return {available: false, bwrap, reason: `bwrap cannot create a sandbox: ${result.stderr.trim().slice(0, 300) || `exit ${result.exitCode}`}`}
}

/** The 503 of a sandbox-mode request that cannot be sandboxed. */
export function sandboxUnavailable(reason: string): OsmodaError {
  return new OsmodaError('SANDBOX_UNAVAILABLE', `sandbox mode is unavailable: ${reason}`, {
    details: {reason},
    hint: 'Install bubblewrap and allow user namespaces (kernel.unprivileged_userns_clone=1), or ask the operator to run the command in host mode.',
  })
}

/** The result hint of a sandboxed command that tried to write. */
export const READ_ONLY_HINT =
  'The sandbox sees the host read-only (only its private /tmp is writable and vanishes afterwards). To change files on the host, ' +
  'retry with mode: "host"; that needs the operator\'s approval.'

/** True when a sandboxed command's stderr shows a refused write. */
export function refusedWrite(stderr: string): boolean {
  return /read-only file system|EROFS/i.test(stderr)
}
