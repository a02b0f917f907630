import {z} from 'zod'

/** The two roles of SPEC §1.4. */
export type Role = 'operator' | 'agent'

/** HTTP methods used by daemon routes. */
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** A route's contract: method, path, schemas and who may call it. */
export interface RouteDef<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  method: Method
  /** Path with `{param}` segments, e.g. `/incident/{id}/step`. */
  path: string
  /** Input: the JSON body for POST/PUT/PATCH, the query string for GET/DELETE, plus path params. */
  input: I
  output: O
  roles: readonly Role[]
  /** Body limit in bytes (default 1 MiB). */
  maxBodyBytes?: number
  /** True when `follow=1` turns the response into an NDJSON stream. */
  stream?: boolean
  /** The success status (default 200; 202 for accepted background work). */
  status?: number
  summary?: string
}

/** Any route. */
export type AnyRoute = RouteDef<z.ZodType, z.ZodType>

/** A daemon's route table. */
export type Api = Record<string, AnyRoute>

/** The strict empty input of routes that take nothing. */
export const NoInput = z.strictObject({})

/**
 * Declares a route once; the server validates with it, the client is typed from it and MCP tools
 * take their schemas from it.
 */
export function route<I extends z.ZodType = typeof NoInput, O extends z.ZodType = z.ZodType>(
  method: Method,
  path: string,
  def: {input?: I; output: O; roles: readonly Role[]; maxBodyBytes?: number; stream?: boolean; status?: number; summary?: string},
): RouteDef<I, O> {
  return {method, path, input: (def.input ?? NoInput) as I, output: def.output, roles: def.roles, maxBodyBytes: def.maxBodyBytes, stream: def.stream, status: def.status, summary: def.summary}
}

/** The path parameter names of a route path, e.g. `['id']` for `/incident/{id}/step`. */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1] as string)
}

/** True when the route's input travels in the query string rather than a JSON body. */
export function usesQuery(def: AnyRoute): boolean {
  return def.method === 'GET' || def.method === 'DELETE'
}
