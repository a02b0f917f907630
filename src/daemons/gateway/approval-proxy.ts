import type {z} from 'zod'
import {agentdApi} from '../agentd/api.js'
import type {OsmodaPaths} from '../../lib/paths.js'
import {createClient} from '../../lib/rpc/client.js'
import {resolveToken} from '../../lib/tokens.js'

type Api = typeof agentdApi

/** The web UI's approvals panel: agentd's routes called with the operator token as `operator:web`. */
export interface ApprovalProxy {
  pending(): Promise<z.output<Api['approvalPending']['output']>>
  approve(input: z.output<Api['approvalApprove']['input']>): Promise<z.output<Api['approvalApprove']['output']>>
  deny(input: z.output<Api['approvalDeny']['input']>): Promise<z.output<Api['approvalDeny']['output']>>
}

/** Builds the proxy; agentd's errors (404, 409, 412, unreachable) pass through unchanged. */
export function createApprovalProxy(paths: OsmodaPaths): ApprovalProxy {
  const withClient = async <T>(call: (client: ReturnType<typeof createClient<Api>>) => Promise<T>): Promise<T> => {
    const client = createClient('agentd', agentdApi, {socketPath: paths.socket('agentd'), token: resolveToken(paths), headers: {'x-osmoda-operator': 'web'}})
    try {
      return await call(client)
    } finally {
      client.close()
    }
  }
  return {
    pending: () => withClient((c) => c.approvalPending()),
    approve: (input) => withClient((c) => c.approvalApprove(input)),
    deny: (input) => withClient((c) => c.approvalDeny(input)),
  }
}
