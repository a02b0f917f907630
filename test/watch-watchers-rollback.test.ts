// A watcher's rollback_generation step in the running watch daemon, on real Nix store paths and
// profile generations (Debian's nix-bin, offline): generation 2 stopped the service, the watcher
// sees its check fail and SafeSwitches to the explicit previous generation, which brings it back.
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {watchApi, type SwitchSession} from '../src/daemons/watch/api.js'
import {openLedger} from '../src/lib/ledger/ledger.js'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'
import {scratchHost, type ScratchHost} from './helpers/nix-systems.js'
import {requireTool} from './helpers/system-tool.js'

const nix = requireTool('nix-store', 'apt-get install nix-bin')

let env: TestEnv
let host: ScratchHost
const daemons: DaemonProcess[] = []

beforeEach(async () => {
  if (nix.skip) return
  env = await testEnv()
  host = await scratchHost(env.base)
})

afterEach(async () => {
  if (nix.skip) return
  for (const d of daemons.splice(0)) await d.stop('SIGKILL')
  host.stopService()
  await env.cleanup()
})

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

describe.skipIf(nix.skip)('watcher rollback_generation', () => {
  it('switches to the previous generation once per episode when the check fails', async () => {
    // Given generation 1 (system A serves) and generation 2 (system B stops the service) running now
    const a = host.system('serve', 'A')
    host.setProfile(a)
    const b = host.system('stop', 'B')
    host.setProfile(b)
    host.activate(b)
    expect(host.generation()).toBe(2)
    daemons.push(await env.start('agentd'))
    daemons.push(await env.start('watch', {...host.watchEnv, OSMODA_WATCH_WATCHER: JSON.stringify({backoff: {initialSecs: 0, factor: 2, maxSecs: 60}})}))
    const watch = env.client('watch', watchApi)
    // When a watcher on the service's URL has a rollback step
    const w = await watch.watcherAdd({name: 'svc', check: host.check, interval_secs: 5, stable_secs: 30, actions: [{type: 'rollback_generation'}, {type: 'notify', message: 'rolled back'}]})
    // Then its first failing check begins a SafeSwitch to generation 1, attributed to the watcher
    const session = await until('a switch', async () => (await watch.switchList()).switches[0])
    expect(session).toMatchObject({target: {type: 'nixos', source: {generation: 1}}, previous_generation: 2, previous_system: b, actor: `watch:watcher:${w.id}`})
    const active = await until('probation', async () => {
      const s: SwitchSession = await watch.switchGet({id: session.id})
      return s.status === 'probation' ? s : undefined
    })
    expect(active.target_system).toBe(a)
    expect(host.current()).toBe(a)
    // And with the service back the watcher is recovering, its ladder past the rollback, no second switch
    const recovering = await until('recovering', async () => {
      const got = await watch.watcherGet({id: w.id})
      return got.state === 'recovering' ? got : undefined
    })
    expect(recovering).toMatchObject({step: 1, last_action: {type: 'rollback_generation', ok: true}})
    expect((await watch.switchList()).switches).toHaveLength(1)
    const ledger = openLedger(env.paths.ledgerDb, {readonly: true})
    const taken = ledger.query({type: 'watcher.action_taken', limit: 10, order: 'asc'}).map((e) => e.payload)
    ledger.close()
    expect(taken).toEqual([expect.objectContaining({watcher_id: w.id, action: 'rollback_generation', ok: true, detail: `began switch ${session.id} to generation 1`})])
  }, 90_000)
})
