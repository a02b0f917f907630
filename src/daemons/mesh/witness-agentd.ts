import {agentdApi} from '../agentd/api.js'
import {OsmodaError} from '../../lib/errors.js'
import type {OsmodaPaths} from '../../lib/paths.js'
import {createClient} from '../../lib/rpc/client.js'
import {resolveToken} from '../../lib/tokens.js'
import type {AgentdLedgerPort} from './witness.js'

const OPERATOR_HEADERS = {'x-osmoda-operator': 'daemon:mesh'}

/** agentd's ledger routes as witnessing uses them, over agentd's socket with the operator token. */
export function createAgentdLedgerPort(paths: OsmodaPaths): AgentdLedgerPort {
  const client = () => createClient('agentd', agentdApi, {socketPath: paths.socket('agentd'), token: resolveToken(paths), headers: OPERATOR_HEADERS})
  const using = async <T>(fn: (c: ReturnType<typeof client>) => Promise<T>): Promise<T> => {
    const c = client()
    try {
      return await fn(c)
    } finally {
      c.close()
    }
  }
  return {
    latestCheckpoint: () =>
      using(async (c) => {
        try {
          const cp = await c.ledgerCheckpoint({})
          return {size: cp.size, root_hash: cp.root_hash, note: cp.note}
        } catch (error) {
          // No checkpoint signed yet is not a failure: there is simply nothing to offer.
          if (error instanceof OsmodaError && error.code === 'NOT_FOUND') return null
          throw error
        }
      }),
    consistency: (oldSize, newSize) => using(async (c) => (await c.ledgerProofConsistency({old: oldSize, new: newSize})).hashes),
    storeCosignature: (input) => using(async (c) => void (await c.ledgerCosignatures(input))),
  }
}
