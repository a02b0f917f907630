import {randomBytes} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {OsmodaError} from './errors.js'
import type {OsmodaPaths} from './paths.js'
import type {Role} from './rpc/route.js'
import {tokenDigest} from './rpc/auth.js'
import {createFileExclusive, writeFileAtomic} from './secure-file.js'

const PREFIX: Record<Role, string> = {operator: 'osm_op_', agent: 'osm_ag_'}
/** The mode each role's token file has (SPEC §1.1): the agent's is group-readable by the runtime. */
export const TOKEN_MODE: Record<Role, number> = {operator: 0o600, agent: 0o640}

/** A new bearer token: `osm_op_`/`osm_ag_` + 43 base64url chars (32 random bytes). */
export function generateToken(role: Role): string {
  return PREFIX[role] + randomBytes(32).toString('base64url')
}

/**
 * Creates the role's token if it is missing and (re)writes its `.sha256` from the token on disk, so
 * daemons always verify against the token that is actually there.
 */
export function ensureToken(paths: OsmodaPaths, role: Role): {created: boolean} {
  const file = join(paths.tokensDir, role)
  const created = createFileExclusive(file, `${generateToken(role)}\n`, TOKEN_MODE[role])
  const token = readFileSync(file, 'utf8').trim()
  const hashFile = `${file}.sha256`
  const digest = tokenDigest(token)
  if (!existsSync(hashFile) || readFileSync(hashFile, 'utf8').trim() !== digest) writeFileAtomic(hashFile, `${digest}\n`, 0o644)
  return {created}
}

/** Replaces a role's token (`osmoda token rotate`). */
export function rotateToken(paths: OsmodaPaths, role: Role): void {
  const file = join(paths.tokensDir, role)
  const token = generateToken(role)
  // Hash first: a crash between the two writes leaves the old token unusable rather than both valid.
  writeFileAtomic(`${file}.sha256`, `${tokenDigest(token)}\n`, 0o644)
  writeFileAtomic(file, `${token}\n`, TOKEN_MODE[role])
}

type Env = Record<string, string | undefined>

/**
 * The caller's token, first readable wins (SPEC §1.4): OSMODA_TOKEN, OSMODA_TOKEN_FILE,
 * $CREDENTIALS_DIRECTORY/operator-token, <state>/tokens/operator, <state>/tokens/agent. The MCP
 * server (`agentOnly`) never falls back to the operator token.
 */
export function resolveToken(paths: OsmodaPaths, env: Env = process.env, options: {agentOnly?: boolean} = {}): string {
  if (env.OSMODA_TOKEN) return env.OSMODA_TOKEN.trim()
  const candidates = options.agentOnly
    ? [env.OSMODA_TOKEN_FILE, join(paths.tokensDir, 'agent')]
    : [env.OSMODA_TOKEN_FILE, env.CREDENTIALS_DIRECTORY ? join(env.CREDENTIALS_DIRECTORY, 'operator-token') : undefined, join(paths.tokensDir, 'operator'), join(paths.tokensDir, 'agent')]
  for (const file of candidates) {
    if (!file) continue
    try {
      const token = readFileSync(file, 'utf8').trim()
      if (token) return token
    } catch {
      // Not readable by this user: try the next one.
    }
  }
  throw new OsmodaError('UNAUTHENTICATED', `no readable osmoda token (looked in ${paths.tokensDir})`, {
    hint: 'run `osmoda init`, or set OSMODA_TOKEN / OSMODA_TOKEN_FILE',
    exitCode: 4,
  })
}
