import {homedir} from 'node:os'
import {join} from 'node:path'

/** The ten daemons of osmoda, in the order `osmoda up` starts them (agentd first). */
export const DAEMON_NAMES = ['agentd', 'keyd', 'watch', 'routines', 'mesh', 'mcpd', 'teachd', 'voice', 'egress', 'gateway'] as const

/** One of the ten daemon names. */
export type DaemonName = (typeof DAEMON_NAMES)[number]

/** Where osmoda keeps sockets, state and config (SPEC §1.1). */
export interface OsmodaPaths {
  runDir: string
  stateDir: string
  configDir: string
  /** `production` under root without overrides, `dev` for XDG defaults. */
  mode: 'production' | 'dev'
  socket(name: string): string
  daemonStateDir(name: string): string
  configFile(name: string): string
  tokensDir: string
  identityDir: string
  ledgerDb: string
}

type Env = Record<string, string | undefined>

/**
 * Resolves the three directories: `OSMODA_*` overrides first; then production paths for root
 * and XDG paths for anyone else (so `osmoda up` works without privileges).
 */
export function resolvePaths(env: Env = process.env, uid: number = process.getuid?.() ?? 0): OsmodaPaths {
  const dev = uid !== 0
  const home = env.HOME ?? homedir()
  const runDir = env.OSMODA_RUN_DIR ?? (dev ? (env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'osmoda') : `/tmp/osmoda-${uid}`) : '/run/osmoda')
  const stateDir = env.OSMODA_STATE_DIR ?? (dev ? join(env.XDG_STATE_HOME ?? join(home, '.local', 'state'), 'osmoda') : '/var/lib/osmoda')
  const configDir = env.OSMODA_CONFIG_DIR ?? (dev ? join(env.XDG_CONFIG_HOME ?? join(home, '.config'), 'osmoda') : '/etc/osmoda')
  return pathsFrom({runDir, stateDir, configDir, mode: dev ? 'dev' : 'production'})
}

/** Builds the full layout from the three directories. */
export function pathsFrom(dirs: {runDir: string; stateDir: string; configDir: string; mode?: 'production' | 'dev'}): OsmodaPaths {
  const {runDir, stateDir, configDir} = dirs
  return {
    runDir,
    stateDir,
    configDir,
    mode: dirs.mode ?? 'dev',
    socket: (name) => join(runDir, `${name}.sock`),
    daemonStateDir: (name) => join(stateDir, name),
    configFile: (name) => join(configDir, `${name}.json`),
    tokensDir: join(stateDir, 'tokens'),
    identityDir: join(stateDir, 'identity'),
    ledgerDb: join(stateDir, 'ledger.db'),
  }
}

/** The env that points a child process at the same three directories. */
export function pathsEnv(paths: OsmodaPaths): Record<string, string> {
  return {OSMODA_RUN_DIR: paths.runDir, OSMODA_STATE_DIR: paths.stateDir, OSMODA_CONFIG_DIR: paths.configDir}
}
