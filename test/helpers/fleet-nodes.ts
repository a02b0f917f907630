// Three-node fleet fixtures: each node is its own agentd, watch and mesh in its own temp dirs,
// paired over real mesh sessions. Shared by the fleet tests over `commands` and nix-profile targets.
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {expect} from 'vitest'
import {meshApi} from '../../src/daemons/mesh/api.js'
import {loadMeshKeys} from '../../src/daemons/mesh/identity.js'
import {watchApi} from '../../src/daemons/watch/api.js'
import type {FleetProposal} from '../../src/daemons/watch/fleet-api.js'
import {openLedger} from '../../src/lib/ledger/ledger.js'
import {testEnv, type DaemonProcess, type TestEnv} from './env.js'

export type NodeName = 'A' | 'B' | 'C'

export interface FleetNode {
  name: NodeName
  env: TestEnv
  id: string
  agentd: DaemonProcess
  watch: DaemonProcess
  mesh: DaemonProcess
}

/** Starts one node; `watchEnv` reaches only its watch (e.g. a scratch profile and current-system link). */
export async function startNode(name: NodeName, options: {watchEnv?: (env: TestEnv) => Record<string, string>} = {}): Promise<FleetNode> {
  const env = await testEnv()
  writeFileSync(join(env.paths.configDir, 'watch.json'), JSON.stringify({probation: {ttlSecs: 30, graceSecs: 0, checkIntervalSecs: 1}, fleet: {timeoutSecs: 300}}))
  writeFileSync(join(env.paths.configDir, 'mesh.json'), JSON.stringify({reconnect: {initialSecs: 0.2, maxSecs: 1}}))
  const agentd = await env.start('agentd')
  const watch = await env.start('watch', options.watchEnv?.(env) ?? {OSMODA_WATCH_CURRENT_SYSTEM_LINK: join(env.base, 'no-link')})
  // testEnv sets OSMODA_MESH_LISTEN_PORT=0: a free port, which invites announce
  const mesh = await env.start('mesh')
  return {name, env, id: loadMeshKeys(env.paths).doc.instance_id, agentd, watch, mesh}
}

export async function stopNode(n: FleetNode): Promise<void> {
  await n.mesh?.stopClean()
  await n.watch?.stopClean()
  await n.agentd?.stopClean()
  await n.env.cleanup()
}

/** inviter creates an invite with the CLI, acceptor accepts it. */
export async function pair(inviter: FleetNode, acceptor: FleetNode): Promise<void> {
  const created = await inviter.env.cli(['mesh', 'invite', 'create', '--json'])
  expect(created.exitCode, created.stderr).toBe(0)
  const accepted = await acceptor.env.cli(['mesh', 'invite', 'accept', created.json.result.invite_code, '--json'])
  expect(accepted.exitCode, accepted.stderr).toBe(0)
}

export async function until<T>(what: string, probe: () => Promise<T | null | false>, secs = 30): Promise<T> {
  const deadline = Date.now() + secs * 1000
  for (;;) {
    const value = await probe().catch(() => null)
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

export async function proposal(n: FleetNode, id: string): Promise<FleetProposal | null> {
  const client = n.env.client('watch', watchApi)
  try {
    return await client.fleetGet({id})
  } catch {
    return null
  } finally {
    client.close()
  }
}

/** Waits until node n sees proposal id in a state `want` accepts. */
export const phase = (n: FleetNode, id: string, want: (p: FleetProposal) => boolean, secs = 90) =>
  until(`${n.name} ${id}`, async () => {
    const p = await proposal(n, id)
    return p && want(p) ? p : null
  }, secs)

export const connectedCount = async (n: FleetNode) => {
  const client = n.env.client('mesh', meshApi)
  try {
    return (await client.health({})).connected_count
  } finally {
    client.close()
  }
}

/** fleet_* messages node n received through mesh (mesh.message_received events). */
export const fleetInbound = (n: FleetNode) => {
  const ledger = openLedger(n.env.paths.ledgerDb, {readonly: true})
  try {
    return ledger.query({type: 'mesh.message_received', limit: 1000, order: 'asc'}).filter((e) => String(e.payload.type).startsWith('fleet_'))
  } finally {
    ledger.close()
  }
}

/** Starts A, B and C and pairs A with B and with C (A proposes). */
export async function threeNodes(options: Parameters<typeof startNode>[1] = {}): Promise<Record<NodeName, FleetNode>> {
  const nodes = {} as Record<NodeName, FleetNode>
  for (const name of ['A', 'B', 'C'] as const) nodes[name] = await startNode(name, options)
  await pair(nodes.A, nodes.B)
  await pair(nodes.A, nodes.C)
  await until('A connected to B and C', async () => (await connectedCount(nodes.A)) === 2)
  return nodes
}

/** Each of B and C approves proposal id with the CLI once it has arrived there. */
export async function approveOnPeers(nodes: Record<NodeName, FleetNode>, id: string): Promise<void> {
  for (const n of [nodes.B, nodes.C]) {
    await phase(n, id, (q) => q.phase === 'voting' && q.proposer === nodes.A.id, 30)
    const voted = await n.env.cli(['fleet', 'vote', id, '--approve', '--json'])
    expect(voted.exitCode, voted.stderr).toBe(0)
  }
}
