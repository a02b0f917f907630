import {chmodSync, mkdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import type {OsmodaPaths} from '../paths.js'
import {stateDirModes} from '../state-init.js'
import {TOKEN_MODE} from '../tokens.js'
import {octal, type DoctorCheck} from './check.js'
import {checkDaemons, expectedSocketMode} from './daemon-checks.js'
import {checkDirs, checkDisk, checkNode, checkTokens, type DiskThresholds} from './fs-checks.js'
import {checkBubblewrap, checkNix, checkSystemd} from './host-checks.js'
import {checkLedger} from './ledger-check.js'

/** What `osmoda doctor` checks and how. */
export interface DoctorOptions {
  paths: OsmodaPaths
  /** Daemons whose sockets must answer. */
  daemons: readonly string[]
  disk?: DiskThresholds
  /** Repair directory and token modes and create missing directories before checking. */
  fix?: boolean
}

/** The outcome of `osmoda doctor`. */
export interface DoctorReport {
  ok: boolean
  counts: {ok: number; warn: number; fail: number}
  /** What --fix changed (empty without --fix). */
  fixed: string[]
  checks: DoctorCheck[]
}

/** Runs every check (the slow ones concurrently) and sums them up; `ok` is false when any fails. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const fixed = options.fix ? repairModes(options.paths, options.daemons) : []
  const [daemons, bwrap, nix] = await Promise.all([checkDaemons(options.paths, options.daemons), checkBubblewrap(), checkNix()])
  const checks = [
    checkNode(),
    ...checkDirs(options.paths),
    ...checkTokens(options.paths),
    ...daemons,
    checkSystemd(),
    bwrap,
    nix,
    checkDisk(options.paths, options.disk),
    checkLedger(options.paths),
  ]
  const counts = {ok: 0, warn: 0, fail: 0}
  for (const check of checks) counts[check.status]++
  return {ok: counts.fail === 0, counts, fixed, checks}
}

/**
 * `--fix` (SPEC §4): creates missing directories and resets directory, token and socket modes to
 * what `osmoda init` and the daemons set. It never creates, rewrites or deletes a token, key or database.
 */
export function repairModes(paths: OsmodaPaths, daemons: readonly string[] = []): string[] {
  const fixed: string[] = []
  for (const [dir, mode] of stateDirModes(paths)) {
    const info = statOrNull(dir)
    if (!info) {
      mkdirSync(dir, {recursive: true, mode})
      chmodSync(dir, mode)
      fixed.push(`created ${dir} (${octal(mode)})`)
    } else if (info.isDirectory() && (info.mode & 0o777) !== mode) {
      chmodSync(dir, mode)
      fixed.push(`chmod ${octal(mode)} ${dir} (was ${octal(info.mode)})`)
    }
  }
  for (const role of ['operator', 'agent'] as const) {
    const file = join(paths.tokensDir, role)
    const info = statOrNull(file)
    if (info?.isFile() && (info.mode & 0o777) !== TOKEN_MODE[role]) {
      chmodSync(file, TOKEN_MODE[role])
      fixed.push(`chmod ${octal(TOKEN_MODE[role])} ${file} (was ${octal(info.mode)})`)
    }
  }
  for (const daemon of daemons) {
    const socket = paths.socket(daemon)
    const info = statOrNull(socket)
    const want = expectedSocketMode()
    if (info?.isSocket() && (info.mode & 0o777) !== want) {
      chmodSync(socket, want)
      fixed.push(`chmod ${octal(want)} ${socket} (was ${octal(info.mode)})`)
    }
  }
  return fixed
}

function statOrNull(path: string) {
  try {
    return statSync(path)
  } catch {
    return null
  }
}
