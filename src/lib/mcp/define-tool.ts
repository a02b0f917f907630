import type {z} from 'zod'
import type {AgentdApi} from '../../daemons/agentd/api.js'
import type {KeydApi} from '../../daemons/keyd/api.js'
import type {WatchApi} from '../../daemons/watch/api.js'
import type {RoutinesApi} from '../../daemons/routines/api.js'
import type {MeshApi} from '../../daemons/mesh/api.js'
import {BugError} from '../errors.js'
import type {RpcClient} from '../rpc/client.js'
import type {AnyRoute, Role} from '../rpc/route.js'

/** Toolsets of SPEC §3: the owning daemon, plus `managed` for mcpd-served third-party tools. */
export const TOOLSETS = ['agentd', 'keyd', 'watch', 'routines', 'mesh', 'mcpd', 'teachd', 'voice', 'managed'] as const

/** One toolset name. */
export type Toolset = (typeof TOOLSETS)[number]

/** The typed daemon clients tools call; injected so tests can hand in seam fakes. */
export interface McpClients {
  agentd: RpcClient<AgentdApi>
  watch: RpcClient<WatchApi>
  /** Absent where a front end serves only agentd's tools (tests, `--toolsets agentd`). */
  routines?: RpcClient<RoutinesApi>
  keyd: RpcClient<KeydApi>
  /** Absent where a front end serves no mesh tools. */
  mesh?: RpcClient<MeshApi>
}

/** MCP tool annotations; SPEC §3 requires all four to be set explicitly on every tool. */
export interface ToolAnnotations {
  readOnlyHint: boolean
  destructiveHint: boolean
  idempotentHint: boolean
  openWorldHint: boolean
}

/** A tool as data: its contract (schemas from the route), its hints and how to call the daemon. */
export interface ToolDef<R extends AnyRoute = AnyRoute, I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  /** `<domain>_<verb>`, exactly as in SPEC §3. */
  name: string
  title: string
  /** What the tool returns and when to use it, written for the agent. */
  description: string
  toolset: Toolset
  route: R
  input: I
  output: O
  annotations: ToolAnnotations
  /** Roles that see and may call the tool. */
  roles: readonly Role[]
  /** The one-line text that accompanies `structuredContent`. */
  summarize(result: z.output<O>): string
  /** Calls the daemon with validated arguments; resolves with the route output. */
  run(clients: McpClients, args: z.output<I>): Promise<z.output<O>>
  /**
   * The route call `run` makes for these arguments, when it is not simply `route` with the
   * arguments as input (e.g. a tool whose `action` picks the route). `approval_request` uses it
   * to bind an approval to exactly the request the tool will send.
   */
  target?(args: z.output<I>): {route: AnyRoute; input: unknown}
}

/** Any tool, for registries and the server. */
export type AnyTool = ToolDef<AnyRoute, z.ZodType, z.ZodType>

/** What `defineTool` takes: input/output default to the route's schemas, roles to the route's roles. */
export interface ToolSpec<R extends AnyRoute, I extends z.ZodType, O extends z.ZodType> {
  name: string
  title: string
  description: string
  toolset: Toolset
  route: R
  input?: I
  output?: O
  annotations: ToolAnnotations
  roles?: readonly Role[]
  summarize(result: z.output<O>): string
  run(clients: McpClients, args: z.output<I>): Promise<z.output<O>>
  target?(args: z.output<I>): {route: AnyRoute; input: unknown}
}

const TOOL_NAME = /^[a-z][a-z0-9_]{0,63}$/
const HINTS = ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const

/**
 * Declares an MCP tool over a daemon route. Schemas default to the route's, so the tool, the
 * daemon's validation and the typed client share one contract; narrow the input with `.omit()`
 * when the route has fields a tool must not expose.
 */
export function defineTool<R extends AnyRoute, I extends z.ZodType = R['input'], O extends z.ZodType = R['output']>(spec: ToolSpec<R, I, O>): ToolDef<R, I, O> {
  if (!TOOL_NAME.test(spec.name)) throw new BugError(`tool name ${spec.name} is not <domain>_<verb>`)
  for (const hint of HINTS) {
    if (typeof spec.annotations[hint] !== 'boolean') throw new BugError(`tool ${spec.name} must set ${hint} explicitly`)
  }
  const roles = spec.roles ?? spec.route.roles
  const beyond = roles.filter((role) => !spec.route.roles.includes(role))
  // A tool listed to a role its route refuses would only ever fail with FORBIDDEN.
  if (beyond.length) throw new BugError(`tool ${spec.name} offers roles ${beyond.join(', ')} that ${spec.route.method} ${spec.route.path} refuses`)
  return {
    name: spec.name,
    title: spec.title,
    description: spec.description,
    toolset: spec.toolset,
    route: spec.route,
    input: (spec.input ?? spec.route.input) as I,
    output: (spec.output ?? spec.route.output) as O,
    annotations: {...spec.annotations},
    roles: [...roles],
    summarize: spec.summarize,
    run: spec.run,
    target: spec.target,
  }
}
