import {Server} from '@modelcontextprotocol/sdk/server/index.js'
import {CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError} from '@modelcontextprotocol/sdk/types.js'
import type {Role} from '../rpc/route.js'
import {VERSION} from '../version.js'
import {invokeTool} from './call-tool.js'
import {describeTool} from './catalogue.js'
import type {AnyTool, McpClients, Toolset} from './define-tool.js'
import type {ToolCallRecorder} from './recorder.js'
import {selectTools, TOOLS_BY_TOOLSET} from './tools/index.js'

/** Options of createOsmodaMcpServer. */
export interface OsmodaMcpServerOptions {
  /** Typed daemon clients (authenticated as the agent); tests pass seam fakes. */
  clients: McpClients
  /** The caller's role: only tools this role may call are listed and callable. */
  role: Role
  /** Only these toolsets (default: all). */
  toolsets?: readonly Toolset[]
  /** Only tools with readOnlyHint. */
  readOnly?: boolean
  /** Receives one `tool.called` record per call. */
  recorder: Pick<ToolCallRecorder, 'record'>
  /** Correlation ids recorded with every call. */
  sessionId?: string | null
  requestId?: string | null
  /** The tool registry (default: every daemon's tools). */
  registry?: Readonly<Record<Toolset, readonly AnyTool[]>>
}

/** The MCP server plus a way to let in-flight calls (and their ledger records) finish before closing. */
export type OsmodaMcpServer = Server & {
  /** Resolves when no tool call is running, or after `timeoutMs`. */
  idle(timeoutMs: number): Promise<void>
}

const INSTRUCTIONS =
  'osmoda manages this Linux server through typed daemon tools. Every call you make is recorded in a hash-chained audit ledger ' +
  '(see event_log). Diagnose with read-only tools (system_health first) before changing anything. A result with ' +
  'APPROVAL_REQUIRED means the operator must approve it: tell them the command to run, then repeat the call with approval_id.'

/**
 * The stdio-agnostic MCP server of `osmoda mcp`: lists the tools the role may call from the
 * selected toolsets and runs every call through the one wrapper (validation, error mapping, ledger
 * record). Connect it to any transport.
 */
export function createOsmodaMcpServer(options: OsmodaMcpServerOptions): OsmodaMcpServer {
  const tools = selectTools({role: options.role, toolsets: options.toolsets, readOnly: options.readOnly}, options.registry ?? TOOLS_BY_TOOLSET)
  const byName = new Map(tools.map((tool) => [tool.name, tool]))
  // Schemas are computed once: tools are static data for the life of the server.
  const listing = tools.map((tool) => {
    const {name, title, description, annotations, inputSchema, outputSchema} = describeTool(tool)
    return {name, title, description, annotations, inputSchema, outputSchema}
  })
  const context = {clients: options.clients, recorder: options.recorder, sessionId: options.sessionId, requestId: options.requestId}

  const inflight = new Set<Promise<unknown>>()

  const server = new Server({name: 'osmoda', title: 'osmoda', version: VERSION}, {capabilities: {tools: {listChanged: false}}, instructions: INSTRUCTIONS})
  server.setRequestHandler(ListToolsRequestSchema, () => ({tools: listing}))
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const tool = byName.get(request.params.name)
    // MCP treats an unknown tool as a protocol error (-32602), not a tool result; tools this role
    // may not call are unknown here, so the agent never learns operator-only names.
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`)
    const call = invokeTool(tool, request.params.arguments, context)
    inflight.add(call)
    try {
      return await call
    } finally {
      inflight.delete(call)
    }
  })
  return Object.assign(server, {
    async idle(timeoutMs: number) {
      let timer: NodeJS.Timeout | undefined
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))
      await Promise.race([Promise.allSettled([...inflight]), deadline])
      clearTimeout(timer)
    },
  })
}
