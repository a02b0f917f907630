import {existsSync, mkdirSync, readFileSync} from 'node:fs'
import {dirname} from 'node:path'
import {z} from 'zod'
import {OsmodaError} from '../../lib/errors.js'
import {writeFileAtomic} from '../../lib/secure-file.js'
import {IsoTime} from '../../lib/schema/primitives.js'
import {Action, RoutineId, Trigger} from './api.js'

/**
 * One stored definition. Webhook action header values are not here (routines.db keeps them), so
 * a human-edited, backed-up routines.json never holds a credential.
 */
export const Definition = z.strictObject({
  id: RoutineId,
  name: z.string().min(1).max(64),
  trigger: Trigger,
  action: Action,
  enabled: z.boolean().default(true),
  created_at: IsoTime,
  updated_at: IsoTime,
})
export type Definition = z.output<typeof Definition>

const DefinitionsFile = z
  .strictObject({version: z.literal(1), routines: z.array(Definition).max(10_000)})
  .superRefine((file, ctx) => {
    const seen = new Set<string>()
    for (const [i, routine] of file.routines.entries()) {
      if (seen.has(routine.id)) ctx.addIssue({code: 'custom', path: ['routines', i, 'id'], message: `duplicate id ${routine.id}`})
      seen.add(routine.id)
    }
  })

/** The six default routines of SPEC §2.4. */
export function defaultDefinitions(now: string): Definition[] {
  const every = (seconds: number) => ({type: 'interval' as const, seconds})
  const make = (id: string, name: string, seconds: number, action: Record<string, unknown>): Definition => ({id, name, trigger: every(seconds), action: Action.parse(action), enabled: true, created_at: now, updated_at: now})
  return [
    make('default-health', 'Health check', 300, {type: 'health_check', thresholds: {}}),
    make('default-services', 'Service monitor', 600, {type: 'service_monitor', units: ['osmoda-agentd', 'osmoda-gateway', 'sshd']}),
    make('default-logscan', 'Log scan', 900, {type: 'log_scan', priority: 'err'}),
    make('default-memory', 'Memory maintenance', 3600, {type: 'memory_maintenance'}),
    make('default-generation', 'NixOS generation check', 1800, {type: 'generation_check'}),
    make('default-network', 'Network watch', 600, {type: 'network_watch'}),
  ]
}

/** What reading routines.json gave: the definitions, or why the file is unusable. */
export type ReadResult = {ok: true; routines: Definition[]; missing: boolean} | {ok: false; problem: string}

/** Reads and validates routines.json; a missing file is an empty set. */
export function readDefinitions(file: string): ReadResult {
  if (!existsSync(file)) return {ok: true, routines: [], missing: true}
  let json: unknown
  try {
    json = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    return {ok: false, problem: `${file} is not valid JSON: ${(error as Error).message}`}
  }
  const parsed = DefinitionsFile.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    return {ok: false, problem: `${file} is invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'schema mismatch'}`}
  }
  return {ok: true, routines: parsed.data.routines, missing: false}
}

/** Writes routines.json atomically (temp file, fsync, rename, fsync dir); 0644 like Nix-written files. */
export function writeDefinitions(file: string, routines: readonly Definition[]): void {
  mkdirSync(dirname(file), {recursive: true, mode: 0o700})
  writeFileAtomic(file, `${JSON.stringify({version: 1, routines}, null, 2)}\n`, 0o644)
}

/** The error mutations answer while routines.json is unusable: it is never overwritten. */
export function corruptError(problem: string): OsmodaError {
  return new OsmodaError('CONFLICT', `routines.json is unusable, so it is left untouched: ${problem}`, {details: {state: 'definitions_corrupt'}, hint: 'fix the file by hand, then run `osmoda daemon reload routines` (POST /reload)'})
}
