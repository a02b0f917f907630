import type {z} from 'zod'

type Def = {type: string; innerType?: z.ZodType; in?: z.ZodType; element?: z.ZodType; shape?: Record<string, z.ZodType>}

/** The zod type name under optional/default/nullable/pipe wrappers ('number', 'boolean', 'array', …). */
function baseKind(schema: z.ZodType | undefined): string | undefined {
  let current = schema
  for (let i = 0; i < 10 && current; i++) {
    const def = (current as unknown as {_zod: {def: Def}})._zod.def
    if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault' || def.type === 'readonly') current = def.innerType
    else if (def.type === 'pipe') current = def.in
    else return def.type
  }
  return undefined
}

function objectShape(schema: z.ZodType): Record<string, z.ZodType> {
  const def = (schema as unknown as {_zod: {def: Def}})._zod.def
  if (def.type === 'object') return def.shape ?? {}
  if (def.type === 'pipe' && def.in) return objectShape(def.in)
  return {}
}

/**
 * Turns a query string into the object a route's zod schema expects: numbers and booleans are
 * converted only when the text is unambiguous, so "abc" for a number still fails validation with a
 * clear message instead of becoming NaN.
 */
export function decodeQuery(schema: z.ZodType, params: URLSearchParams): Record<string, unknown> {
  const shape = objectShape(schema)
  const out: Record<string, unknown> = {}
  for (const key of new Set(params.keys())) {
    const kind = baseKind(shape[key])
    const values = params.getAll(key)
    if (kind === 'array') {
      out[key] = values
      continue
    }
    const value = values[values.length - 1] as string
    if (kind === 'number' || kind === 'int') out[key] = /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(value) ? Number(value) : value
    else if (kind === 'boolean') out[key] = value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value
    else out[key] = value
  }
  return out
}

/** Encodes an input object as a query string (arrays repeat the key; undefined is skipped). */
export function encodeQuery(input: Record<string, unknown>): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined || value === null) continue
    if (Array.isArray(value)) for (const item of value) params.append(key, String(item))
    else if (typeof value === 'object') params.append(key, JSON.stringify(value))
    else params.append(key, String(value))
  }
  const text = params.toString()
  return text ? `?${text}` : ''
}
