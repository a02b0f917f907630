import {createHash} from 'node:crypto'
import {performance} from 'node:perf_hooks'
import type {ToolCallInput} from '../../daemons/agentd/api.js'
import type {z} from 'zod'
import {OsmodaError, toOsmodaError} from '../errors.js'
import {canonicalJson} from '../ledger/canonical-json.js'
import {issueList} from '../rpc/validation.js'
import type {AnyTool, McpClients} from './define-tool.js'
import type {ToolCallRecorder} from './recorder.js'

/** How a tool call ended, as `tool.called` records it (SPEC §1.11). */
export type ToolOutcome = z.output<typeof ToolCallInput>['outcome']

/** The MCP `tools/call` result the wrapper produces. */
export interface ToolResult {
  [key: string]: unknown
  content: {type: 'text'; text: string}[]
  structuredContent?: Record<string, unknown>
  isError?: boolean
}

/** What every call needs besides the tool and its arguments. */
export interface CallContext {
  clients: McpClients
  recorder: Pick<ToolCallRecorder, 'record'>
  /** Correlation ids recorded with every call (OSMODA_SESSION_ID / OSMODA_REQUEST_ID). */
  sessionId?: string | null
  requestId?: string | null
}

const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/
const DENIED = new Set(['FORBIDDEN', 'UNAUTHENTICATED', 'POLICY_DENIED', 'PATH_DENIED'])

/** The `tool.called` outcome of an error code (null for success). */
export function outcomeFor(code: string | null): ToolOutcome {
  if (code === null) return 'ok'
  if (code === 'APPROVAL_REQUIRED') return 'approval_required'
  if (DENIED.has(code)) return 'denied'
  return 'error'
}

/**
 * Hex SHA-256 of the RFC 8785 canonical JSON of the arguments as received (absent = `{}`). Values
 * JCS refuses (a lone surrogate) are hashed as JSON.stringify text, so such a call is still recorded.
 */
export function argsDigest(args: unknown): string {
  let text: string
  try {
    text = canonicalJson(args ?? {})
  } catch {
    text = JSON.stringify(args) ?? 'null'
  }
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

/** The agent-facing text of an error: `CODE: message (hint)`, with the approval steps for APPROVAL_REQUIRED. */
export function errorText(error: OsmodaError): string {
  const base = `${error.code}: ${error.message}`
  if (error.code === 'APPROVAL_REQUIRED') {
    const details = (error.details ?? {}) as {approval_id?: unknown; expires_at?: unknown}
    const id = typeof details.approval_id === 'string' ? details.approval_id : '<approval_id>'
    const expires = typeof details.expires_at === 'string' ? ` before ${details.expires_at}` : ''
    return `${base}. Ask the operator to run \`osmoda approval approve ${id}\`${expires}, then repeat this call with the same arguments plus "approval_id": "${id}".`
  }
  return error.hint ? `${base} (${error.hint})` : base
}

/**
 * The one wrapper every tool call goes through: validate, call the daemon, shape the MCP result,
 * map errors to `isError` results, and record exactly one `tool.called`.
 */
export async function invokeTool(tool: AnyTool, rawArgs: Record<string, unknown> | undefined, ctx: CallContext): Promise<ToolResult> {
  const started = performance.now()
  const args = rawArgs ?? {}
  let result: ToolResult
  let code: string | null = null
  try {
    const parsed = tool.input.safeParse(args)
    if (!parsed.success) {
      const details = issueList(parsed.error)
      throw new OsmodaError('VALIDATION_FAILED', `invalid arguments for ${tool.name}: ${details.join('; ')}`, {
        details,
        hint: "fix the arguments to match the tool's inputSchema",
      })
    }
    const output = (await tool.run(ctx.clients, parsed.data)) as Record<string, unknown>
    result = {content: [{type: 'text', text: summaryOf(tool, output)}], structuredContent: output}
  } catch (thrown) {
    const error = toOsmodaError(thrown)
    code = error.code
    result = {content: [{type: 'text', text: errorText(error)}], isError: true}
  }
  const approvalId = typeof args.approval_id === 'string' ? args.approval_id.slice(0, 64) : null
  await ctx.recorder.record({
    tool: tool.name,
    toolset: tool.toolset,
    args_sha256: argsDigest(args),
    outcome: outcomeFor(code),
    error_code: code === null || ERROR_CODE.test(code) ? code : 'INTERNAL',
    duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
    session_id: ctx.sessionId ?? null,
    request_id: ctx.requestId ?? null,
    approval_id: approvalId,
  })
  return result
}

function summaryOf(tool: AnyTool, output: unknown): string {
  try {
    return tool.summarize(output)
  } catch {
    // The daemon already acted; a summary bug must not turn a success into an error for the agent.
    return `${tool.name}: ok (see structuredContent)`
  }
}
