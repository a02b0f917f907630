import {z} from 'zod'
import {UsageError} from '../../../lib/errors.js'
import {TOOLS_BY_TOOLSET} from '../../../lib/mcp/tools/index.js'
import type {AnyTool} from '../../../lib/mcp/define-tool.js'
import {DEFAULT_APPROVAL_RULES} from '../hands-config.js'
import type {ResolvedOperation} from './service.js'

const allTools = (): AnyTool[] => Object.values(TOOLS_BY_TOOLSET).flat()

const issues = (error: z.ZodError, prefix: string): string[] => error.issues.map((issue) => `${[prefix, ...issue.path.map(String)].join('.')}: ${issue.message}`)

/**
 * Resolves a tool call to the request the tool will send: its daemon, method, concrete path and
 * the route's validated body with defaults filled in — the same body the route hands its gate, so
 * an approval asked for up front matches the later call's digest.
 */
export function resolveToolCall(name: string, args: Record<string, unknown>, tools: readonly AnyTool[] = allTools()): ResolvedOperation {
  const tool = tools.find((t) => t.name === name)
  if (!tool) throw new UsageError(`unknown tool ${name}`, {details: [`tool: no tool named ${name}`], hint: 'use the name of the tool whose call needs approval, e.g. shell_exec'})
  const parsedArgs = tool.input.safeParse(args)
  if (!parsedArgs.success) throw new UsageError(`arguments do not fit ${name}`, {details: issues(parsedArgs.error, 'arguments')})
  const {route, input} = tool.target ? tool.target(parsedArgs.data) : {route: tool.route, input: parsedArgs.data}
  const body = route.input.safeParse(input)
  if (!body.success) throw new UsageError(`arguments do not fit ${name}`, {details: issues(body.error, 'arguments')})
  const values = body.data as Record<string, unknown>
  const path = route.path.replace(/\{([a-z_]+)\}/g, (_m, key: string) => encodeURIComponent(String(values[key])))
  return {daemon: tool.toolset, method: route.method, path, body: values}
}

/** Every operation a rule may name: the tool names plus the non-tool operations of SPEC §1.6. */
export function knownOperations(tools: readonly AnyTool[] = allTools()): ReadonlySet<string> {
  return new Set([...Object.keys(DEFAULT_APPROVAL_RULES), ...tools.map((t) => t.name)])
}
