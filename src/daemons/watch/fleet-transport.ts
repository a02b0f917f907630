import {z} from 'zod'
import {DaemonUnavailableError, OsmodaError} from '../../lib/errors.js'
import type {OsmodaPaths} from '../../lib/paths.js'
import {createClient} from '../../lib/rpc/client.js'
import {route} from '../../lib/rpc/route.js'
import {resolveToken} from '../../lib/tokens.js'
import type {FleetMessage} from './fleet-api.js'

/** How watch reaches other nodes: one fleet message to one mesh peer. */
export interface MeshTransport {
  /** Resolves once mesh wrote the message to the peer's session; rejects 409 PEER_NOT_CONNECTED, 503 when mesh is down. */
  send(peerId: string, message: FleetMessage): Promise<void>
}

// The one mesh route watch calls (SPEC §2.5 POST /peer/{id}/send); mesh accepts fleet_* from the operator role.
const meshSendApi = {
  peerSend: route('POST', '/peer/{id}/send', {
    input: z.object({id: z.string(), message: z.record(z.string(), z.unknown())}),
    output: z.object({delivered: z.boolean(), bytes: z.number().int()}),
    roles: ['operator'],
  }),
} as const

/** The real transport: mesh's socket, as the operator (watch is a daemon acting for the fleet). */
export function createMeshTransport(paths: OsmodaPaths): MeshTransport {
  return {
    async send(peerId, message) {
      const client = createClient('mesh', meshSendApi, {socketPath: paths.socket('mesh'), token: resolveToken(paths), headers: {'x-osmoda-operator': 'daemon:watch'}, timeoutMs: 15_000})
      try {
        await client.peerSend({id: peerId, message})
      } catch (error) {
        if (error instanceof OsmodaError && error.code === 'DAEMON_UNAVAILABLE') {
          throw new DaemonUnavailableError('mesh', 'mesh is not running', {hint: 'fleet messages travel over osmoda-mesh: systemctl status osmoda-mesh', details: {daemon: 'mesh'}})
        }
        throw error
      } finally {
        client.close()
      }
    },
  }
}
