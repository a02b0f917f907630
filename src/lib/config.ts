import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {z} from 'zod'
import {UsageError} from './errors.js'
import {LOG_LEVELS} from './log.js'
import {issueList} from './rpc/validation.js'

/** Keys every daemon config has (SPEC §1.13). */
export const SharedConfig = {
  logLevel: z.enum(LOG_LEVELS).default('info'),
  // SPEC §1.1: sockets are 0660 with group osmoda; where the group is missing they stay 0600 (rpc/socket-access.ts).
  socketGroup: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'expected a group name such as osmoda')
    .default('osmoda')
    .describe('Group given the daemon socket (mode 0660); when it does not exist the socket is owner-only (0600). Read at start.'),
}

/** A loaded config with the digest recorded in `daemon.started`. */
export interface LoadedConfig<T> {
  config: T
  sha256: string
  /** Where the file config came from, or null when none exists. */
  file: string | null
}

type Env = Record<string, string | undefined>

/**
 * Loads a daemon config with the precedence flag > `OSMODA_<NAME>_<KEY>` env > file > default and
 * validates it strictly: a bad file fails start with the key path.
 */
export function loadDaemonConfig<S extends z.ZodObject>(
  name: string,
  schema: S,
  source: {file: string; env?: Env; flags?: Record<string, unknown>; fileRequired?: boolean},
): LoadedConfig<z.output<S>> {
  const fromFile = readConfigFile(source.file, source.fileRequired ?? false)
  const merged: Record<string, unknown> = {...fromFile.value, ...envOverrides(name, schema, source.env ?? {}), ...stripUndefined(source.flags ?? {})}
  const parsed = schema.safeParse(merged)
  if (!parsed.success) {
    const where = fromFile.found ? source.file : 'defaults and environment'
    throw new UsageError(`invalid ${name} config (${where}): ${issueList(parsed.error).join('; ')}`, {details: issueList(parsed.error), hint: `fix ${source.file} or the OSMODA_${upperSnake(name)}_* variables`})
  }
  const sha256 = createHash('sha256').update(JSON.stringify(parsed.data)).digest('hex')
  return {config: parsed.data, sha256, file: fromFile.found ? source.file : null}
}

function readConfigFile(file: string, required: boolean): {value: Record<string, unknown>; found: boolean} {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !required) return {value: {}, found: false}
    throw new UsageError(`cannot read config ${file}: ${(error as Error).message}`)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new UsageError(`config ${file} is not valid JSON: ${(error as Error).message}`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`config ${file} must be a JSON object`)
  return {value: value as Record<string, unknown>, found: true}
}

function envOverrides(name: string, schema: z.ZodObject, env: Env): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(schema.shape)) {
    const value = env[`OSMODA_${upperSnake(name)}_${upperSnake(key)}`] ?? (key === 'logLevel' ? env.OSMODA_LOG_LEVEL : undefined)
    if (value === undefined) continue
    try {
      out[key] = JSON.parse(value)
    } catch {
      out[key] = value
    }
  }
  return out
}

function stripUndefined(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined))
}

/** `checkpointEverySecs` → `CHECKPOINT_EVERY_SECS`. */
export function upperSnake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9]/g, '_').toUpperCase()
}
