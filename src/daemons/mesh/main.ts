import {join} from 'node:path'
import type {DaemonContext, DaemonDefinition, ReloadResult} from '../../lib/daemon/runtime.js'
import {serveUntilAborted} from '../../lib/daemon/serve.js'
import {createIdGenerator} from '../../lib/ids.js'
import {createTokenAuth} from '../../lib/rpc/auth.js'
import {createRpcServer} from '../../lib/rpc/server.js'
import {meshApi} from './api.js'
import {MeshConfig} from './config.js'
import {createConnectionManager, type ConnectionManager} from './connections.js'
import {createAgentdGate} from './gate.js'
import {loadMeshKeys, rotateNoiseKey, type MeshKeys} from './identity.js'
import {createInboundDispatch, createWatchRelay} from './inbound.js'
import {meshHandlers} from './routes.js'
import {createMeshService} from './service.js'
import {openMeshStore} from './store.js'
import {loadNodePublicKey} from '../../lib/identity.js'
import {createRoomsService} from './rooms.js'
import {createRoomsStore} from './rooms-store.js'
import {createWitnessService} from './witness.js'
import {createAgentdLedgerPort} from './witness-agentd.js'
import {createWitnessStore} from './witness-store.js'

// Keys that only take effect when the listener is rebound.
const RESTART_KEYS = ['listenAddress', 'listenPort'] as const

async function main(ctx: DaemonContext<MeshConfig>): Promise<void> {
  const startedAt = Date.now()
  let config = ctx.config
  // A missing key is an error: mesh never creates or silently replaces the node identity.
  let keys: MeshKeys = loadMeshKeys(ctx.paths)
  const store = openMeshStore(join(ctx.paths.daemonStateDir('mesh'), 'mesh.db'))
  const auth = createTokenAuth(ctx.paths.tokensDir)
  const newId = createIdGenerator()
  let bound: {address: string; port: number} | null = null
  const advertisedEndpoint = (): string | null => {
    if (config.publicEndpoint) return config.publicEndpoint
    if (!bound || bound.address === '0.0.0.0' || bound.address === '::') return null
    return `${bound.address.includes(':') ? `[${bound.address}]` : bound.address}:${bound.port}`
  }

  const counters = {unknown: 0, invalid: 0}
  // Dispatch and the manager refer to each other only through closures called after both exist.
  const connections: ConnectionManager = createConnectionManager({
    keys: () => keys,
    store,
    ledger: ctx.ledger,
    config: () => config,
    log: ctx.log.child({component: 'connections'}),
    advertisedEndpoint,
    dispatch: (peerId, message) => dispatch(peerId, message),
    counters,
  })
  const dispatch = createInboundDispatch({
    store,
    ledger: ctx.ledger,
    log: ctx.log.child({component: 'inbound'}),
    config: () => config,
    link: () => connections.link,
    handlerFor: (type) => connections.handlerFor(type),
    counters,
    relayFleet: createWatchRelay(ctx.paths),
    onPeerRotated: (oldId, newPeerId) => {
      connections.drop(oldId)
      connections.dialSoon(newPeerId)
    },
  })

  const rooms = createRoomsService({link: connections.link, store: createRoomsStore(store.db), ledger: ctx.ledger, signingKey: keys.signingKey, log: ctx.log.child({component: 'rooms'}), settings: () => config})
  const witness = createWitnessService({
    link: connections.link,
    store: createWitnessStore(store.db),
    ledger: ctx.ledger,
    signingKey: keys.signingKey,
    agentd: createAgentdLedgerPort(ctx.paths),
    origin: loadNodePublicKey(ctx.paths).identity.ledger_origin,
    log: ctx.log.child({component: 'witness'}),
    settings: () => config.witness,
  })

  const service = createMeshService({
    store,
    ledger: ctx.ledger,
    config: () => config,
    connections,
    gate: createAgentdGate(ctx.paths),
    keys: () => keys,
    rotateKeys: () => rotateNoiseKey(ctx.paths, keys, new Date()),
    setKeys: (next) => (keys = next),
    newId,
    advertisedEndpoint,
    version: ctx.version,
    startedAt,
    roomCount: () => rooms.stats().room_count,
  })

  const reload = async (): Promise<ReloadResult> => {
    const next = ctx.readConfig()
    auth.reload()
    const changed = (Object.keys(next) as (keyof MeshConfig)[]).filter((key) => JSON.stringify(next[key]) !== JSON.stringify(config[key]))
    for (const key of RESTART_KEYS) if (changed.includes(key)) ctx.log.warn(`${key} changes take effect at the next restart`)
    config = next
    return {reloaded: true, changed}
  }
  ctx.onReload(reload)

  const server = createRpcServer({daemon: 'mesh', version: ctx.version, api: meshApi, handlers: meshHandlers(service, reload, {rooms, witness}), auth, log: ctx.log})
  try {
    // A bind failure fails start (SPEC §2.5).
    bound = await connections.listen()
    ctx.log.info('mesh listening', {address: bound.address, port: bound.port, instance_id: keys.doc.instance_id})
    connections.start()
    witness.start(ctx.signal)
    await serveUntilAborted(ctx, server)
  } finally {
    await connections.stop()
    store.close()
  }
}

/** mesh: invites, pinned peers, Noise sessions and direct messages between osmoda nodes (SPEC §2.5). */
export const mesh: DaemonDefinition<typeof MeshConfig> = {name: 'mesh', configSchema: MeshConfig, main}
