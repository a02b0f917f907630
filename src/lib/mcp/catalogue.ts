import {z} from 'zod'
import {BugError} from '../errors.js'
import type {Role} from '../rpc/route.js'
import type {AnyTool, ToolAnnotations, Toolset} from './define-tool.js'

/** A JSON Schema whose top level is an object, as MCP requires for tool input and output. */
export type ObjectJsonSchema = {type: 'object'; [key: string]: unknown}

/** A tool as MCP lists it (`tools/list`), plus osmoda's toolset and roles for `osmoda mcp --list`. */
export interface ToolListing {
  name: string
  title: string
  description: string
  toolset: Toolset
  roles: Role[]
  annotations: ToolAnnotations
  inputSchema: ObjectJsonSchema
  outputSchema: ObjectJsonSchema
}

/**
 * The JSON Schema of a zod schema as the agent sees it: `io: 'input'` for arguments (defaults are
 * optional, pre-transform types), `io: 'output'` for results.
 */
export function objectJsonSchema(schema: z.ZodType, io: 'input' | 'output', what: string): ObjectJsonSchema {
  const generated = z.toJSONSchema(schema, {
    io,
    // Results stay open to fields a newer daemon adds: a long-running `osmoda mcp` must not fail every call
    // (clients validate structuredContent) after agentd is upgraded under it. Arguments stay closed.
    override: io === 'output' ? (ctx) => void (ctx.jsonSchema.additionalProperties === false && delete ctx.jsonSchema.additionalProperties) : undefined,
  })
  // `$schema` is dropped: MCP (2025-11-25) reads a schema without one as draft 2020-12, which is what zod emits,
  // and several agent runtimes reject schemas that carry the keyword.
  const {$schema: _dialect, ...json} = generated as Record<string, unknown>
  if (json.type !== 'object') throw new BugError(`${what}: MCP needs an object schema at the top, got ${JSON.stringify(json.type)}`)
  return json as ObjectJsonSchema
}

/** A tool's catalogue entry with its JSON Schemas. */
export function describeTool(tool: AnyTool): ToolListing {
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    toolset: tool.toolset,
    roles: [...tool.roles],
    annotations: {...tool.annotations},
    inputSchema: objectJsonSchema(tool.input, 'input', `${tool.name} input`),
    outputSchema: objectJsonSchema(tool.output, 'output', `${tool.name} output`),
  }
}

/** The hint letters of SPEC §3 (R readOnly, D destructive, I idempotent, W openWorld), `-` for none. */
export function hintLetters(annotations: ToolAnnotations): string {
  const letters = [
    annotations.readOnlyHint ? 'R' : '',
    annotations.destructiveHint ? 'D' : '',
    annotations.idempotentHint ? 'I' : '',
    annotations.openWorldHint ? 'W' : '',
  ].filter(Boolean)
  return letters.length ? letters.join(' ') : '-'
}
