import type {Role} from '../rpc/route.js'

type Env = Record<string, string | undefined>

/** The daemons' own patterns (src/lib/rpc/server.ts): a header they would reject fails every call. */
const AGENT_ID_RE = /^[a-z][a-z0-9-]{0,31}$/
const CORRELATION_RE = /^[\x21-\x7e]{1,64}$/

/** The role `osmoda mcp` serves: the agent, unless it was explicitly handed an operator token. */
export function roleOfToken(token: string | undefined): Role {
  return token?.startsWith('osm_op_') ? 'operator' : 'agent'
}

/** Who the agent is, from OSMODA_AGENT_ID / OSMODA_SESSION_ID / OSMODA_REQUEST_ID. */
export interface AgentContext {
  /** X-Osmoda-* headers for every daemon request. */
  headers: Record<string, string>
  sessionId: string | null
  requestId: string | null
  /** Variables that were set but ignored because a daemon would reject them. */
  warnings: string[]
}

/** Builds the agent's headers and correlation ids from its environment, skipping invalid values. */
export function resolveAgentContext(env: Env): AgentContext {
  const headers: Record<string, string> = {}
  const warnings: string[] = []
  const take = (name: string, header: string, pattern: RegExp): string | null => {
    const value = env[name]
    if (value === undefined || value === '') return null
    if (!pattern.test(value)) {
      warnings.push(`ignoring ${name}: it must match ${pattern.source}`)
      return null
    }
    headers[header] = value
    return value
  }
  take('OSMODA_AGENT_ID', 'x-osmoda-agent-id', AGENT_ID_RE)
  const sessionId = take('OSMODA_SESSION_ID', 'x-osmoda-session-id', CORRELATION_RE)
  const requestId = take('OSMODA_REQUEST_ID', 'x-osmoda-request-id', CORRELATION_RE)
  return {headers, sessionId, requestId, warnings}
}
