import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {openLedger, type Ledger} from '../../lib/ledger/ledger.js'
import {pathsFrom} from '../../lib/paths.js'
import {EgressConfig} from './config.js'
import type {EgressProxy} from './proxy.js'
import {createEgressService} from './service.js'

let dir: string
let ledger: Ledger

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-egress-service-'))
  ledger = openLedger(join(dir, 'ledger.db'))
})
afterEach(() => {
  ledger.close()
  rmSync(dir, {recursive: true, force: true})
})

const make = (fresh = true) => {
  const paths = pathsFrom({runDir: join(dir, 'run'), stateDir: join(dir, 'state'), configDir: join(dir, 'config')})
  const config = EgressConfig.parse({defaultAllow: ['nix.example'], allowPrivateCidrs: ['10.9.0.0/16']})
  return {
    paths,
    service: createEgressService({
      paths,
      ledger,
      config: () => config,
      revocations: {fresh: () => fresh, isRevoked: () => false},
      proxy: () => ({stats: () => ({tunnels_active: 0, allowed_total: 0, denied_total: 0})}) as unknown as EgressProxy,
      listen: () => ({address: '127.0.0.1', port: 1, proxy_socket: '/x'}),
      version: '0',
      startedAt: Date.now(),
    }),
  }
}

describe('egress allowlist service', () => {
  it('starts from the config, stores a PUT atomically with a ledger digest, and keeps omitted fields', () => {
    const {service, paths} = make()
    expect(service.allowlist()).toEqual({default_allow: ['nix.example'], allowed_ports: [443], allow_private_cidrs: ['10.9.0.0/16'], source: 'nix'})
    const next = service.setAllowlist({default_allow: ['a.example', 'a.example'], allowed_ports: [443, 8443]}, 'operator:alice')
    expect(next).toEqual({default_allow: ['a.example'], allowed_ports: [443, 8443], allow_private_cidrs: ['10.9.0.0/16'], source: 'state'})
    const file = join(paths.stateDir, 'egress', 'allowlist.json')
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({default_allow: ['a.example'], allowed_ports: [443, 8443], allow_private_cidrs: ['10.9.0.0/16']})
    const [event] = ledger.query({type: 'egress.allowlist_changed', limit: 1, order: 'desc'})
    expect(event).toMatchObject({actor: 'operator:alice', payload: {sha256: expect.stringMatching(/^[0-9a-f]{64}$/)}})
    // A fresh service (restart) reads the stored file
    expect(make().service.allowlist()).toEqual(next)
  })

  it('reports a hand-broken allowlist file in health and applies the config meanwhile', () => {
    const {paths} = make()
    mkdirSync(join(paths.stateDir, 'egress'), {recursive: true})
    writeFileSync(join(paths.stateDir, 'egress', 'allowlist.json'), '{"default_allow": ["https://x"]}')
    const {service} = make()
    expect(service.allowlist().source).toBe('nix')
    expect(service.health()).toMatchObject({status: 'degraded', problems: [expect.stringContaining('not a valid allowlist')]})
    service.setAllowlist({default_allow: []}, 'operator:root')
    expect(service.health()).toMatchObject({status: 'ok'})
    expect(service.health()).not.toHaveProperty('problems')
  })

  it('is degraded while the revocation list is stale', () => {
    expect(make(false).service.health()).toMatchObject({status: 'degraded', revocations_fresh: false, problems: [expect.stringContaining('stale')]})
  })
})
