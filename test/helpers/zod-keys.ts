// Lists the key paths of a zod config schema the way test/fixtures/nix/options-listing.nix lists
// module options: leaves and containers of objects, "[]" for array elements, "<name>" for records.
import {isDeepStrictEqual} from 'node:util'
import type {z} from 'zod'

interface Def {
  type: string
  shape?: Record<string, z.ZodType>
  innerType?: z.ZodType
  in?: z.ZodType
  element?: z.ZodType
  valueType?: z.ZodType
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as {_zod: {def: Def}})._zod.def

// Wrappers that do not change which keys a value has.
function unwrap(schema: z.ZodType): z.ZodType {
  const def = defOf(schema)
  if (['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(def.type) && def.innerType) return unwrap(def.innerType)
  if (def.type === 'pipe' && def.in) return unwrap(def.in)
  return schema
}

// The object schema inside a container (array element / record value), with the steps taken.
function objectInside(schema: z.ZodType, steps: string[]): {steps: string[]; shape: Record<string, z.ZodType>} | null {
  const def = defOf(unwrap(schema))
  if (def.type === 'object' && def.shape) return {steps, shape: def.shape}
  if (def.type === 'array' && def.element) return objectInside(def.element, [...steps, '[]'])
  if (def.type === 'record' && def.valueType) return objectInside(def.valueType, [...steps, '<name>'])
  return null
}

/** Key paths of an object schema; `opaque` paths (dotted) are listed as leaves, not walked. */
export function zodKeyPaths(shape: Record<string, z.ZodType>, opaque: ReadonlySet<string> = new Set(), prefix: string[] = []): string[][] {
  return Object.entries(shape).flatMap(([key, schema]) => {
    const path = [...prefix, key]
    if (opaque.has(path.join('.'))) return [path]
    const def = defOf(unwrap(schema))
    if (def.type === 'object' && def.shape) return zodKeyPaths(def.shape, opaque, path)
    const inner = objectInside(schema, [])
    return inner ? [path, ...zodKeyPaths(inner.shape, opaque, [...path, ...inner.steps])] : [path]
  })
}

/** The value at a key path of a parsed config (undefined when absent or below a container). */
export function valueAt(value: unknown, path: readonly string[]): unknown {
  let current: unknown = value
  for (const step of path) {
    if (step === '[]' || step === '<name>' || current === null || typeof current !== 'object') return undefined
    current = (current as Record<string, unknown>)[step]
  }
  return current
}

/** Human-readable differences of two path lists, both directions. */
export function pathDiff(nixPaths: string[][], zodPaths: string[][]): {onlyNix: string[]; onlyZod: string[]} {
  const nix = new Set(nixPaths.map((p) => p.join('.')))
  const zod = new Set(zodPaths.map((p) => p.join('.')))
  return {onlyNix: [...nix].filter((p) => !zod.has(p)).sort(), onlyZod: [...zod].filter((p) => !nix.has(p)).sort()}
}

/** Deep equality for JSON-like defaults. */
export const sameDefault = (a: unknown, b: unknown): boolean => isDeepStrictEqual(a, b)
