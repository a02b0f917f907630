import {z} from 'zod'
import {runProcess} from '../../lib/exec/run.js'
import type {Ledger} from '../../lib/ledger/ledger.js'
import {canonicalJson} from '../../lib/ledger/canonical-json.js'
import type {Logger} from '../../lib/log.js'
import type {OsmodaPaths} from '../../lib/paths.js'
import {createClient} from '../../lib/rpc/client.js'
import {route} from '../../lib/rpc/route.js'
import {resolveToken} from '../../lib/tokens.js'
import type {MeshConfig} from './config.js'
import {identityDocProblem, verifyRotation} from './identity.js'
import type {PeerLink} from './link.js'
import {CORE_INBOUND, FLEET_TYPES} from './messages.js'
import type {MeshStore} from './store.js'

const COMMAND_OUTPUT_CAP = 16_384
const MAX_COMMANDS_IN_FLIGHT = 4
// Handled by the Noise session itself; an application message of these types is a no-op.
const SESSION_TYPES = new Set(['ping', 'pong', 'rekey'])

/** The one watch route mesh calls: hand a fleet message from an authenticated peer to watch. */
const watchInboundApi = {
  fleetInbound: route('POST', '/fleet/inbound', {input: z.object({peer_id: z.string(), message: z.record(z.string(), z.unknown())}), output: z.object({accepted: z.boolean()}), roles: ['operator']}),
} as const

/** Delivers a fleet message to watch; resolves whether watch accepted it. */
export type FleetRelay = (peerId: string, message: Record<string, unknown>) => Promise<boolean>

/** The real relay: watch's socket with the operator token, as daemon:mesh. */
export function createWatchRelay(paths: OsmodaPaths): FleetRelay {
  return async (peerId, message) => {
    const client = createClient('watch', watchInboundApi, {socketPath: paths.socket('watch'), token: resolveToken(paths), headers: {'x-osmoda-operator': 'daemon:mesh'}, timeoutMs: 15_000})
    try {
      return (await client.fleetInbound({peer_id: peerId, message})).accepted
    } finally {
      client.close()
    }
  }
}

/** What inbound dispatch needs. */
export interface InboundDeps {
  store: MeshStore
  ledger: Ledger
  log: Logger
  config: () => MeshConfig
  link: () => PeerLink
  handlerFor: (type: string) => ((peerId: string, message: Record<string, unknown>) => void | Promise<void>) | undefined
  counters: {unknown: number; invalid: number}
  relayFleet: FleetRelay
  /** A peer rotated its key: its id changes; close the old session and redial. */
  onPeerRotated: (oldId: string, newId: string) => void
}

/**
 * Routes one inbound application message from an authenticated peer: mesh's own types are
 * validated and acted on, fleet_* go to watch, plug-in types to their handler, anything else is
 * ignored and counted. The sender is always `peerId`, never a field of the message.
 */
export function createInboundDispatch(deps: InboundDeps) {
  const {store, ledger, log} = deps
  let commandsInFlight = 0

  const received = (peerId: string, type: string, message: Record<string, unknown>) => {
    ledger.append({type: 'mesh.message_received', actor: 'mesh', payload: {peer_id: peerId, type, bytes: Buffer.byteLength(canonicalJson(message))}})
  }

  const runCommand = async (peerId: string, id: string, name: string) => {
    const entry = deps.config().commandAllow.find((e) => e.name === name)
    const reply = (fields: {ok: boolean; exit_code: number | null; output: string}) => deps.link().send(peerId, {type: 'command_result', id, ...fields})
    if (!entry || commandsInFlight >= MAX_COMMANDS_IN_FLIGHT) {
      ledger.append({type: 'mesh.command_refused', actor: 'mesh', payload: {peer_id: peerId, name, reason: entry ? 'busy' : 'not_allowed'}})
      await reply({ok: false, exit_code: null, output: entry ? 'too many commands running, try again later' : `command ${name} is not in this node's commandAllow list`})
      return
    }
    commandsInFlight++
    try {
      const result = await runProcess([entry.command, ...entry.args], {timeoutMs: entry.timeoutSecs * 1000, maxOutputBytes: COMMAND_OUTPUT_CAP})
      ledger.append({type: 'mesh.command_executed', actor: 'mesh', payload: {peer_id: peerId, name, exit_code: result.exitCode, timed_out: result.timedOut}})
      const output = (result.stdout + result.stderr).slice(0, COMMAND_OUTPUT_CAP)
      await reply({ok: result.exitCode === 0 && !result.timedOut, exit_code: result.exitCode, output})
    } catch (error) {
      ledger.append({type: 'mesh.command_executed', actor: 'mesh', payload: {peer_id: peerId, name, exit_code: null, error: (error as Error).message.slice(0, 200)}})
      await reply({ok: false, exit_code: null, output: (error as Error).message.slice(0, 500)})
    } finally {
      commandsInFlight--
    }
  }

  const rotate = (peerId: string, message: z.output<typeof CORE_INBOUND.key_rotation>) => {
    const pinned = store.getPeer(peerId)
    const doc = message.identity
    const ok =
      pinned &&
      message.old_instance_id === peerId &&
      doc.ed25519_pubkey === pinned.ed25519_pubkey &&
      identityDocProblem(doc) === null &&
      !store.getPeer(doc.instance_id) &&
      verifyRotation(Buffer.from(pinned.ed25519_pubkey, 'hex'), peerId, doc, Buffer.from(message.sig, 'base64url'))
    if (!ok) {
      deps.counters.invalid++
      log.warn('key_rotation refused', {peer_id: peerId})
      return
    }
    store.repinPeer(peerId, doc.instance_id, doc.noise_static_pubkey)
    ledger.append({type: 'mesh.peer_rotated', actor: 'mesh', payload: {old_peer_id: peerId, new_peer_id: doc.instance_id}})
    deps.onPeerRotated(peerId, doc.instance_id)
  }

  return async (peerId: string, message: Record<string, unknown>): Promise<void> => {
    const type = message.type as string
    if (SESSION_TYPES.has(type)) return
    if ((FLEET_TYPES as readonly string[]).includes(type)) {
      received(peerId, type, message)
      const accepted = await deps.relayFleet(peerId, message).catch((error: unknown) => {
        log.warn('watch did not take a fleet message', {peer_id: peerId, type, error: (error as Error).message})
        return false
      })
      if (!accepted) deps.counters.invalid++
      return
    }
    if (Object.hasOwn(CORE_INBOUND, type)) {
      const parsed = CORE_INBOUND[type as keyof typeof CORE_INBOUND].safeParse(message)
      if (!parsed.success) {
        deps.counters.invalid++
        log.warn('ignored a malformed message', {peer_id: peerId, type})
        return
      }
      const value = parsed.data
      if (value.type === 'key_rotation') return rotate(peerId, value)
      received(peerId, type, message)
      if (value.type === 'alert' && value.severity === 'critical') {
        ledger.append({type: 'notification.requested', actor: 'mesh', payload: {source: `mesh:${peerId}`, severity: 'critical', title: value.title.slice(0, 200), message: value.detail.slice(0, 2000)}})
      }
      // Not awaited: a command may run for minutes and must not hold up the peer's other messages.
      if (value.type === 'command') void runCommand(peerId, value.id, value.name).catch((error: unknown) => log.error('command reply failed', {peer_id: peerId, error: (error as Error).message}))
      return
    }
    const handler = deps.handlerFor(type)
    if (!handler) {
      deps.counters.unknown++
      return
    }
    await handler(peerId, message)
  }
}
