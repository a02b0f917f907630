import {existsSync, lstatSync, readFileSync, readlinkSync, realpathSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {SYSTEM_PATHS, type SandboxUser, type SystemEntry} from './bwrap-args.js'

/**
 * What the sandbox learns about its host: which system directories exist, which user runs the
 * sandbox, whether systemd can hold the limits, where Node and the osmoda package are.
 */

/** The system paths that exist here, in SYSTEM_PATHS order; symlinks are kept as symlinks. */
export function findSystemEntries(root = '/'): SystemEntry[] {
  const entries: SystemEntry[] = []
  for (const path of SYSTEM_PATHS) {
    try {
      const info = lstatSync(join(root, path))
      if (info.isSymbolicLink()) entries.push({path, symlink: readlinkSync(join(root, path))})
      else if (info.isDirectory()) entries.push({path, symlink: null})
    } catch {
      // Absent on this host: nothing to mount.
    }
  }
  return entries
}

/** One /etc/passwd entry. */
interface PasswdEntry {
  name: string
  uid: number
  gid: number
}

function readPasswd(file: string): PasswdEntry[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return []
  }
  return text
    .split('\n')
    .map((line) => line.split(':'))
    .filter((f) => f.length >= 4 && /^\d+$/.test(f[2] ?? '') && /^\d+$/.test(f[3] ?? ''))
    .map((f) => ({name: f[0] as string, uid: Number(f[2]), gid: Number(f[3])}))
}

/** Which user a sandbox runs as, and why (shown in logs and the health reason). */
export interface ResolvedSandboxUser {
  user: SandboxUser | null
  /** `configured`: sandbox.user exists; `nobody`: dev fallback under root; `self`: dev fallback as the daemon user. */
  mode: 'configured' | 'nobody' | 'self'
  description: string
}

/** The uid the dev fallback uses under root when `sandbox.user` does not exist. */
export const NOBODY_UID = 65_534

/**
 * Resolves `sandbox.user` (default `osmoda-sandbox`). Production: that user and its primary group.
 * Dev mode (the user does not exist): under root, `nobody` (65534:65534, groups cleared unless
 * /etc/passwd knows it), so a sandbox escape still lands unprivileged; as any other user, that user
 * itself, which is already unprivileged.
 */
export function resolveSandboxUser(name: string, options: {uid?: number; passwd?: string} = {}): ResolvedSandboxUser {
  const uid = options.uid ?? process.getuid?.() ?? 0
  const passwd = readPasswd(options.passwd ?? '/etc/passwd')
  const configured = passwd.find((e) => e.name === name)
  if (configured) {
    if (configured.uid === uid) return {user: null, mode: 'self', description: `${name} (the daemon's own user)`}
    return {user: {uid: configured.uid, gid: configured.gid, name}, mode: 'configured', description: `${name} (${configured.uid}:${configured.gid})`}
  }
  if (uid === 0) {
    const nobody = passwd.find((e) => e.uid === NOBODY_UID)
    return {
      user: {uid: NOBODY_UID, gid: nobody?.gid ?? NOBODY_UID, name: nobody?.name ?? null},
      mode: 'nobody',
      description: `${nobody?.name ?? 'uid'} ${NOBODY_UID} (dev fallback: ${name} does not exist)`,
    }
  }
  return {user: null, mode: 'self', description: `uid ${uid} (dev fallback: ${name} does not exist, running as the daemon user)`}
}

/** Whether systemd is PID 1 (sd_booted(3): /run/systemd/system exists). */
export function systemdIsPid1(root = '/'): boolean {
  return existsSync(join(root, 'run/systemd/system'))
}

/** The osmoda package directory (holds package.json, bin/ and dist/), from this module's location. */
export function packageDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error('the osmoda package directory was not found above the sandbox module')
    dir = parent
  }
  return realpathSync(dir)
}

/** The real path of the running Node binary (bound into tier-1 sandboxes for the helper). */
export function nodeBinary(): string {
  return realpathSync(process.execPath)
}
