// A fleet deploy whose target is a Nix system closure, switched on three real nodes (agentd, watch
// and mesh each) with the nix-profile SafeSwitch backend: real store paths (nix-store --add), real
// profile generations (nix-env -p … --set), activation through the closure's own
// bin/switch-to-configuration. The nodes share this machine's /nix/store as nodes of a fleet share
// one binary cache; each has its own profile and current-system link under its own HOME.
import {execFileSync} from 'node:child_process'
import {chmodSync, mkdirSync, readlinkSync, realpathSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {watchApi} from '../src/daemons/watch/api.js'
import type {TestEnv} from './helpers/env.js'
import {approveOnPeers, phase, stopNode, threeNodes, type FleetNode, type NodeName} from './helpers/fleet-nodes.js'
import {requireTool} from './helpers/system-tool.js'

const nix = requireTool('nix-store', 'apt-get install nix-bin')
const NIX = ['--option', 'substituters', '']

let nodes = {} as Record<NodeName, FleetNode>
const homes = {} as Record<NodeName, string>

/** A store path whose activation points $HOME/current-system at itself (HOME is the node's). */
function system(base: string, tag: string): string {
  const dir = join(base, `system-${tag}`)
  mkdirSync(join(dir, 'bin'), {recursive: true})
  const script = join(dir, 'bin', 'switch-to-configuration')
  writeFileSync(
    script,
    `#!/bin/sh\n# osmoda fleet test system ${tag}\nset -e\nself=$(cd "$(dirname "$0")/.." && pwd -P)\nif [ "$1" = test ]; then ln -sfn "$self" "$HOME/current-system.new"; mv -T "$HOME/current-system.new" "$HOME/current-system"; fi\n`,
  )
  chmodSync(script, 0o755)
  return execFileSync('nix-store', ['--add', dir, ...NIX], {encoding: 'utf8'}).trim()
}

const homeOf = (env: TestEnv) => join(env.base, 'home')
const current = (n: NodeName) => realpathSync(join(homes[n], 'current-system'))
const profileSystem = (n: NodeName) => realpathSync(join(homes[n], 'profiles', 'system'))
const generation = (n: NodeName) => Number(/-(\d+)-link$/.exec(readlinkSync(join(homes[n], 'profiles', 'system')))?.[1])

/** The check every node runs in probation: fails only where $HOME/broken exists and `bad` runs. */
const check = (bad: string) => ({type: 'command', command: '/bin/sh', args: ['-c', `test "$(readlink "$HOME/current-system")" != "${bad}" || test ! -e "$HOME/broken"`], timeout_secs: 5})

let base = ''
let initial = ''

beforeAll(async () => {
  if (nix.skip) return
  nodes = await threeNodes({
    // Each node's watch manages its own scratch profile and current-system link, starting on `initial`.
    watchEnv: (env) => {
      const home = homeOf(env)
      mkdirSync(join(home, 'profiles'), {recursive: true})
      initial ||= system(env.base, 'initial')
      execFileSync('nix-env', ['-p', join(home, 'profiles', 'system'), '--set', initial, ...NIX], {stdio: 'ignore'})
      symlinkSync(initial, join(home, 'current-system'))
      return {HOME: home, OSMODA_WATCH_SYSTEM_PROFILE: join(home, 'profiles', 'system'), OSMODA_WATCH_CURRENT_SYSTEM_LINK: join(home, 'current-system')}
    },
  })
  for (const name of ['A', 'B', 'C'] as const) homes[name] = homeOf(nodes[name].env)
  base = nodes.A.env.base
}, 180_000)

afterAll(async () => {
  for (const n of Object.values(nodes)) await stopNode(n)
})

describe.skipIf(nix.skip)('a fleet deploy of a Nix closure with the nix-profile SafeSwitch backend', () => {
  it('reaches quorum; every node activates, passes probation and records a new profile generation', async () => {
    // Given every node on generation 1 (`initial`) and a new closure
    const next = system(base, 'next')
    expect((['A', 'B', 'C'] as const).map(generation)).toEqual([1, 1, 1])
    const client = nodes.A.env.client('watch', watchApi)
    // When A proposes it for all three and B and C approve
    const p = await client.fleetPropose({plan: 'roll out the next system', target: {type: 'nixos', source: {store_path: next}}, peer_ids: [nodes.B.id, nodes.C.id], quorum_percent: 100, health_checks: [check(next) as never]}).finally(() => client.close())
    expect(p).toMatchObject({phase: 'voting', quorum_required: 3, target: {type: 'nixos', source: {store_path: next}}})
    await approveOnPeers(nodes, p.id)
    // Then the fleet commits, and on every node the running system and the profile's new generation are `next`
    const done = await phase(nodes.A, p.id, (q) => ['committed', 'rolled_back', 'aborted'].includes(q.phase), 150)
    expect(done.phase, done.reason ?? '').toBe('committed')
    expect(done.participants.map((x) => x.status)).toEqual(['committed', 'committed', 'committed'])
    for (const n of ['A', 'B', 'C'] as const) {
      await phase(nodes[n], p.id, (q) => q.phase === 'committed', 30)
      expect([n, current(n), profileSystem(n), generation(n)]).toEqual([n, next, next, 2])
    }
  }, 240_000)

  it("one node's failing check rolls that node back to its previous generation; the status shows it", async () => {
    // Given a closure that fails its check on C only (C has $HOME/broken)
    const before = system(base, 'next') // the same bytes as the first test's closure: the same store path
    const bad = system(base, 'bad-on-c')
    writeFileSync(join(homes.C, 'broken'), '')
    const client = nodes.A.env.client('watch', watchApi)
    // When it is proposed and approved
    const p = await client.fleetPropose({plan: 'a closure C cannot run', target: {type: 'nixos', source: {store_path: bad}}, peer_ids: [nodes.B.id, nodes.C.id], quorum_percent: 100, health_checks: [check(bad) as never]}).finally(() => client.close())
    await approveOnPeers(nodes, p.id)
    // Then the fleet ends rolled_back with C rolled_back, and C runs its previous system on its unchanged generation
    const ended = await phase(nodes.A, p.id, (q) => ['committed', 'rolled_back', 'aborted'].includes(q.phase), 150)
    expect(ended.phase).toBe('rolled_back')
    expect(ended.participants.find((x) => x.peer_id === 'self')?.status).toBe('committed')
    expect(ended.participants.find((x) => x.peer_id === nodes.C.id)?.status).toBe('rolled_back')
    expect(ended.reason).toContain(nodes.C.id)
    const onC = await phase(nodes.C, p.id, (q) => q.phase === 'rolled_back', 60)
    const watchC = nodes.C.env.client('watch', watchApi)
    const session = await watchC.switchGet({id: onC.participants.find((x) => x.peer_id === 'self')?.switch_id as string}).finally(() => watchC.close())
    expect(session).toMatchObject({status: 'rolled_back', previous_system: before, target_system: bad})
    expect([current('C'), profileSystem('C'), generation('C')]).toEqual([before, before, 2])
    // And A, the canary, committed `bad` as its generation 3
    expect([current('A'), profileSystem('A'), generation('A')]).toEqual([bad, bad, 3])
  }, 240_000)
})
