import {readFileSync, statSync, statfsSync} from 'node:fs'
import {join} from 'node:path'
import {formatBytes} from '../cli/table.js'
import type {OsmodaPaths} from '../paths.js'
import {tokenDigest} from '../rpc/auth.js'
import {stateDirModes} from '../state-init.js'
import {TOKEN_MODE} from '../tokens.js'
import {fail, octal, ok, warn, type DoctorCheck} from './check.js'

/** Oldest Node major osmoda runs on (DEPENDENCIES: Node 20). */
export const MIN_NODE_MAJOR = 20

/** Node ≥ 20. */
export function checkNode(version: string = process.versions.node): DoctorCheck {
  const major = Number(version.split('.')[0])
  if (Number.isInteger(major) && major >= MIN_NODE_MAJOR) return ok('node', `Node.js ${version}`)
  return fail('node', `Node.js ${version} is older than ${MIN_NODE_MAJOR}`, `install Node.js ${MIN_NODE_MAJOR} or newer (NixOS: the osmoda package brings its own)`)
}

/** The run, state, config, tokens and identity dirs exist with the modes `osmoda init` gives them. */
export function checkDirs(paths: OsmodaPaths): DoctorCheck[] {
  return stateDirModes(paths).map(([dir, mode, label]) => {
    const name = `dir:${label}`
    let info
    try {
      info = statSync(dir)
    } catch {
      return fail(name, `${dir} does not exist`, 'run `osmoda init` (or `osmoda doctor --fix`) to create it')
    }
    if (!info.isDirectory()) return fail(name, `${dir} is not a directory`, `move ${dir} aside and run \`osmoda init\``)
    const actual = info.mode & 0o777
    if (actual !== mode) return fail(name, `${dir} has mode ${octal(actual)}, expected ${octal(mode)}`, `chmod ${octal(mode)} ${dir} (or \`osmoda doctor --fix\`)`)
    return ok(name, `${dir} (${octal(actual)})`)
  })
}

/** Each token exists with its mode (0600 operator, 0640 agent) and matches its `.sha256`. */
export function checkTokens(paths: OsmodaPaths): DoctorCheck[] {
  return (['operator', 'agent'] as const).map((role) => {
    const name = `token:${role}`
    const file = join(paths.tokensDir, role)
    const mode = TOKEN_MODE[role]
    let token: string
    let actual: number
    try {
      actual = statSync(file).mode & 0o777
      token = readFileSync(file, 'utf8').trim()
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT'
      return fail(name, missing ? `${file} is missing` : `${file} is unreadable: ${(error as Error).message}`, missing ? 'run `osmoda init` to create it' : 'run doctor as root or as the token owner')
    }
    if (actual !== mode) return fail(name, `${file} has mode ${octal(actual)}, expected ${octal(mode)}`, `chmod ${octal(mode)} ${file} (or \`osmoda doctor --fix\`)`)
    const prefix = role === 'operator' ? 'osm_op_' : 'osm_ag_'
    if (!token.startsWith(prefix)) return fail(name, `${file} does not hold an ${role} token (${prefix}…)`, `remove ${file} and run \`osmoda init\` (then restart the agent runtime with the new token)`)
    let stored: string
    try {
      stored = readFileSync(`${file}.sha256`, 'utf8').trim()
    } catch {
      return fail(name, `${file}.sha256 is missing: daemons cannot verify this token`, 'run `osmoda init` (it rewrites the .sha256 from the token on disk)')
    }
    if (stored !== tokenDigest(token)) {
      return fail(name, `${file}.sha256 does not match the token: daemons reject it`, 'run `osmoda init` (it rewrites the .sha256 from the token on disk), then `osmoda reload`')
    }
    return ok(name, `${file} (${octal(actual)}), hash matches`)
  })
}

/** Thresholds of the free-space check, in percent of the state dir's filesystem. */
export interface DiskThresholds {
  warnPct: number
  failPct: number
}

/** Free space on the state dir's filesystem: warn below 10 %, fail below 2 % by default. */
export function checkDisk(paths: OsmodaPaths, thresholds: DiskThresholds = {warnPct: 10, failPct: 2}): DoctorCheck {
  let fs
  try {
    fs = statfsSync(paths.stateDir)
  } catch (error) {
    return fail('disk', `cannot stat the filesystem of ${paths.stateDir}: ${(error as Error).message}`, 'run `osmoda init` to create the state dir')
  }
  const total = fs.blocks * fs.bsize
  const free = fs.bavail * fs.bsize
  const pct = total > 0 ? (free / total) * 100 : 0
  const detail = `${formatBytes(free)} free of ${formatBytes(total)} (${pct.toFixed(1)} %) on ${paths.stateDir}`
  const fix = `free space on the filesystem of ${paths.stateDir} (old backups, nix-collect-garbage, journal vacuum)`
  if (pct < thresholds.failPct) return fail('disk', `${detail}, below ${thresholds.failPct} %`, fix)
  if (pct < thresholds.warnPct) return warn('disk', `${detail}, below ${thresholds.warnPct} %`, fix)
  return ok('disk', detail)
}
