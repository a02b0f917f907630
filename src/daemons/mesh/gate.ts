import {agentdApi} from '../agentd/api.js'
import type {OsmodaPaths} from '../../lib/paths.js'
import {createClient} from '../../lib/rpc/client.js'
import type {RequestContext} from '../../lib/rpc/server.js'
import {resolveToken} from '../../lib/tokens.js'

/** One gated mesh request (SPEC §1.6: invite create/accept and peer disconnect are `always`). */
export interface MeshGateRequest {
  operation: 'mesh_invite_create' | 'mesh_invite_accept' | 'mesh_peer_disconnect'
  method: 'POST' | 'DELETE'
  /** The concrete path, e.g. /peer/<id>. */
  path: string
  /** The validated input (body or query, path parameters included) with defaults, without `approval_id`. */
  body: Record<string, unknown>
  caller: Pick<RequestContext, 'role' | 'actor'>
  summary: string
  approvalId?: string
}

/** Lets a request through or throws agentd's 412 (APPROVAL_REQUIRED / APPROVAL_INVALID) unchanged. */
export interface MeshGate {
  check(request: MeshGateRequest): Promise<void>
}

/** The real gate: agentd POST /approval/gate with the operator token; operator calls are never gated. */
export function createAgentdGate(paths: OsmodaPaths): MeshGate {
  return {
    async check(request) {
      if (request.caller.role === 'operator') return
      const client = createClient('agentd', agentdApi, {socketPath: paths.socket('agentd'), token: resolveToken(paths), headers: {'x-osmoda-operator': 'daemon:mesh'}})
      try {
        await client.approvalGate({
          operation: request.operation,
          daemon: 'mesh',
          method: request.method,
          path: request.path,
          body: request.body,
          actor: request.caller.actor,
          summary: request.summary.slice(0, 500),
          approval_id: request.approvalId ?? null,
        })
      } finally {
        client.close()
      }
    },
  }
}
