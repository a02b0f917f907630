/**
 * The command line of one sandbox run (SPEC §2.1 "Sandboxes"), built as data so that every flag
 * is unit-tested without running anything:
 *
 *   [systemd-run --scope … --]  [setpriv --reuid … --]  bwrap <namespaces> <mounts> -- [helper] argv
 *
 * Pure: what exists on the host (system directories, the sandbox user, systemd) is decided by the
 * caller and passed in.
 */

/** Where PATH points inside the sandbox: the NixOS system profile first, then the FHS dirs. */
export const SANDBOX_PATH = '/run/current-system/sw/bin:/usr/bin:/bin'

/** Host directories mounted read-only into every sandbox, when they exist (`/lib*` is expanded by the caller). */
export const SYSTEM_PATHS = ['/nix/store', '/run/current-system', '/usr', '/bin', '/lib', '/lib32', '/lib64', '/libx32', '/etc/ssl'] as const

/** Where the egress proxy's Unix socket appears inside a sandbox with network. */
export const EGRESS_SOCKET_INSIDE = '/run/osmoda/egress-proxy.sock'

/** Address the in-sandbox helper listens on; HTTPS_PROXY and friends point here. */
export const HELPER_PROXY_URL = 'http://127.0.0.1:3128'

/** One system path as found on the host: a directory (bound read-only) or a symlink (recreated). */
export interface SystemEntry {
  path: string
  /** The link target when the path is a symlink (`/lib -> usr/lib` on merged-/usr systems). */
  symlink: string | null
}

/** The host user the sandbox runs as; null runs it as the daemon's own user (dev mode, non-root). */
export interface SandboxUser {
  uid: number
  gid: number
  /** Known to /etc/passwd: its supplementary groups are set with --init-groups, else cleared. */
  name: string | null
}

/** One capability-granted path, mounted at the same place inside. */
export interface SandboxBind {
  /** The path as granted (where it appears inside). */
  path: string
  /** Its real path on the host (what is mounted). */
  source: string
  writable: boolean
}

/** The in-sandbox CONNECT helper of tier-1 runs with network. */
export interface HelperPlan {
  /** Real path of the Node binary, bound read-only when it lies outside the system paths. */
  node: string
  /** The osmoda package directory (holds bin/sandbox-init.js and dist/), bound read-only. */
  packageDir: string
  /** The egress Unix socket on the host, bound at EGRESS_SOCKET_INSIDE. */
  egressSocket: string
}

/** Everything one run needs. */
export interface SandboxPlan {
  user: SandboxUser | null
  /** cgroup limits through a transient systemd scope; null where systemd is not PID 1. */
  scope: {memoryMax: string; pidsMax: number} | null
  system: readonly SystemEntry[]
  binds: readonly SandboxBind[]
  helper: HelperPlan | null
  cwd: string
  argv: readonly string[]
}

/** `systemd-run --scope` prefix: the run's processes share one cgroup with MemoryMax and TasksMax. */
export function scopePrefix(limits: {memoryMax: string; pidsMax: number}): string[] {
  return ['systemd-run', '--scope', '--quiet', '--collect', '-p', `MemoryMax=${limits.memoryMax}`, '-p', `TasksMax=${limits.pidsMax}`, '--']
}

/** `setpriv` prefix (SPEC §1.12): real and effective ids and the user's groups, never spawn({uid}). */
export function setprivPrefix(user: SandboxUser): string[] {
  return ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, user.name === null ? '--clear-groups' : '--init-groups', '--']
}

const isUnder = (path: string, dir: string) => path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`)

/** The full argv of one sandbox run. */
export function buildSandboxArgv(plan: SandboxPlan): string[] {
  const args: string[] = []
  if (plan.scope) args.push(...scopePrefix(plan.scope))
  if (plan.user) args.push(...setprivPrefix(plan.user))
  args.push('bwrap', '--unshare-all', '--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--clearenv')
  args.push('--setenv', 'PATH', SANDBOX_PATH, '--setenv', 'HOME', '/tmp', '--setenv', 'LANG', 'C.UTF-8')
  for (const entry of plan.system) {
    if (entry.symlink === null) args.push('--ro-bind', entry.path, entry.path)
    else args.push('--symlink', entry.symlink, entry.path)
  }
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp')
  const helper = plan.helper
  if (helper) {
    // Outside NixOS the Node binary and the package lie outside /nix/store and /usr.
    const bound = plan.system.filter((e) => e.symlink === null).map((e) => e.path)
    if (!bound.some((dir) => isUnder(helper.node, dir))) args.push('--ro-bind', helper.node, helper.node)
    if (!bound.some((dir) => isUnder(helper.packageDir, dir))) args.push('--ro-bind', helper.packageDir, helper.packageDir)
    args.push('--ro-bind', helper.egressSocket, EGRESS_SOCKET_INSIDE)
  }
  for (const bind of plan.binds) args.push(bind.writable ? '--bind' : '--ro-bind', bind.source, bind.path)
  // bwrap's root is a tmpfs holding the mount points: read-only, so /tmp and fs:write grants are
  // the only places a command can write.
  args.push('--remount-ro', '/', '--chdir', plan.cwd, '--')
  if (helper) args.push(helper.node, `${helper.packageDir}/bin/sandbox-init.js`, '--egress', EGRESS_SOCKET_INSIDE, '--')
  args.push(...plan.argv)
  return args
}
