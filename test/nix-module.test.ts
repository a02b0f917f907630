// The NixOS module evaluated offline with the stub lib of test/fixtures/nix (no nixpkgs here).
// What this proves: the module's option tree, types, defaults and `apply`, the settings it renders
// to /etc/osmoda/<name>.json (accepted by each daemon's own zod schema), and the unit attributes it
// builds. What it does not prove: that the module evaluates under the real nixpkgs module system
// (option priorities and merging, the existence of every systemd/users option it sets) or that the
// units start: that is the flake's `vm-stack` check on a machine with nixpkgs and KVM.
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {beforeAll, describe, expect, it} from 'vitest'
import type {z} from 'zod'
import {ROOT} from './helpers/env.js'
import {evalModule, nixOptionListing, type EvaluatedSystem, type NixListing} from './helpers/nix-eval.js'
import {requireTool} from './helpers/system-tool.js'
import {pathDiff, sameDefault, valueAt, zodKeyPaths} from './helpers/zod-keys.js'

const nix = requireTool('nix-instantiate', 'apt-get install nix-bin')

const DAEMONS = ['agentd', 'keyd', 'watch', 'routines', 'mesh', 'mcpd', 'teachd', 'voice', 'egress', 'gateway'] as const
// Config keys whose value the module takes as free-form attrs instead of typed sub-options: the
// wallet policy has its own validator in keyd (policy.ts) and `osmoda wallet policy evaluate`.
const OPAQUE: Record<string, ReadonlySet<string>> = {keyd: new Set(['policySeed'])}

const hasConfig = (daemon: string) => existsSync(join(ROOT, `src/daemons/${daemon}/config.ts`))
const BUILT = DAEMONS.filter(hasConfig)

async function configSchema(daemon: string): Promise<z.ZodObject> {
  const mod = (await import(/* @vite-ignore */ pathToFileURL(join(ROOT, `src/daemons/${daemon}/config.ts`)).href)) as Record<string, unknown>
  const name = `${daemon[0]!.toUpperCase()}${daemon.slice(1)}Config`
  const schema = mod[name] as z.ZodObject | undefined
  if (!schema) throw new Error(`src/daemons/${daemon}/config.ts exports no ${name}`)
  return schema
}

describe.skipIf(nix.skip)('services.osmoda options agree with the daemons\' zod configs', () => {
  let listing: NixListing
  beforeAll(() => {
    listing = nixOptionListing()
  })

  it('lists as pending exactly the daemons that have no config.ts yet', () => {
    // Given the module's pendingDaemons and the daemons present in src/daemons
    const pending = DAEMONS.filter((d) => !hasConfig(d))
    // Then a daemon that landed is no longer pending (its unit is installed and its options compared)
    expect(listing.pendingDaemons.slice().sort(), 'update pendingDaemons in nix/module.nix').toEqual(pending.sort())
  })

  it.each(BUILT)('%s: every option is a config key and every config key an option (nested)', async (daemon) => {
    // Given the daemon's zod config and the module's options for it
    const schema = await configSchema(daemon)
    const zodPaths = zodKeyPaths(schema.shape, OPAQUE[daemon])
    const moduleOnly = new Set((listing.moduleOnly[daemon] ?? []).map((p) => p.join('.')))
    const nixPaths = [...listing.shared, ...listing.options[daemon]!].map((o) => o.path).filter((p) => !moduleOnly.has(p.join('.')))
    // When both are compared path by path
    const diff = pathDiff(nixPaths, zodPaths)
    // Then neither has a key the other lacks
    expect(diff, `services.osmoda.${daemon} vs src/daemons/${daemon}/config.ts`).toEqual({onlyNix: [], onlyZod: []})
  })

  it.each(BUILT)('%s: option defaults equal the zod defaults', async (daemon) => {
    // Given the config a daemon builds from an empty file
    const defaults = (await configSchema(daemon)).parse({})
    // When each module default that is set is compared with the daemon's default at the same path
    const wrong = [...listing.shared, ...listing.options[daemon]!]
      .filter((o) => o.default !== null && !o.path.includes('[]') && !o.path.includes('<name>'))
      .map((o) => ({path: o.path.join('.'), nix: o.default, zod: valueAt(defaults, o.path)}))
      .filter((d) => d.zod !== undefined && !sameDefault(d.nix, d.zod))
    // Then they agree (an unset option and a missing key mean the same)
    expect(wrong).toEqual([])
  })

  it('catches a drift: a key missing on either side shows in the diff', () => {
    // Given option and key lists that differ both ways
    const diff = pathDiff([['a'], ['b', 'c']], [['a'], ['b', 'd']])
    // Then both directions are reported
    expect(diff).toEqual({onlyNix: ['b.c'], onlyZod: ['b.d']})
  })
})

describe.skipIf(nix.skip)('services.osmoda evaluated (stub lib)', () => {
  const minimal = {services: {osmoda: {enable: true}}}
  let system: EvaluatedSystem
  beforeAll(() => {
    const res = evalModule(minimal)
    if (!res.ok) throw new Error(res.error)
    system = res.value
  })

  it('does nothing unless enabled', () => {
    const res = evalModule({services: {osmoda: {}}})
    expect(res).toEqual({ok: true, value: {enabled: false}})
  })

  it.each(BUILT)('renders /etc/osmoda/%s.json that the daemon\'s own schema accepts', async (daemon) => {
    // Given a minimal configuration (keyd and mesh are off by default, so they are enabled here)
    const res = daemon === 'keyd' || daemon === 'mesh' ? evalModule({services: {osmoda: {enable: true, [daemon]: {enable: true}}}}) : {ok: true as const, value: system}
    if (!res.ok) throw new Error(res.error)
    // When the daemon validates the rendered file strictly
    const json = res.value.etc[`osmoda/${daemon}.json`]
    expect(json, `osmoda/${daemon}.json`).toBeDefined()
    const parsed = (await configSchema(daemon)).safeParse(json)
    // Then it starts with that file
    expect(parsed.error?.issues ?? []).toEqual([])
  })

  it('writes changed options into the JSON: lists extend the built-in entries, secrets stay out', () => {
    // Given non-default settings
    const res = evalModule({
      services: {
        osmoda: {
          enable: true,
          logLevel: 'debug',
          agentd: {approval: {ttlSecs: 1200, rules: {file_write: 'always'}}, files: {readRoots: ['/data'], writeRoots: [{path: '/data'}]}},
          keyd: {enable: true, policyMutable: false, policy: {version: 1}},
          egress: {allowedPorts: [443, 8443]},
        },
      },
    })
    if (!res.ok) throw new Error(res.error)
    const agentd = res.value.etc['osmoda/agentd.json']!
    // Then each value is in the file, and module-only keys are not
    expect(agentd.logLevel).toBe('debug')
    expect(valueAt(agentd, ['approval', 'ttlSecs'])).toBe(1200)
    expect(valueAt(agentd, ['approval', 'rules'])).toEqual({file_write: 'always'})
    const readRoots = valueAt(agentd, ['files', 'readRoots']) as string[]
    expect(readRoots[0]).toBe('/etc')
    expect(readRoots.at(-1)).toBe('/data')
    expect((valueAt(agentd, ['files', 'writeRoots']) as unknown[]).at(-1)).toEqual({path: '/data', approval: false})
    expect(valueAt(agentd, ['backup', 'schedule'])).toBeUndefined()
    expect(agentd.enable).toBeUndefined()
    const keyd = res.value.etc['osmoda/keyd.json']!
    expect(keyd.kekFile).toBeUndefined()
    expect(keyd.policySeed).toEqual({version: 1})
    expect(res.value.etc['osmoda/keyd-policy.json']).toEqual({version: 1})
    expect(res.value.etc['osmoda/egress.json']!.allowedPorts).toEqual([443, 8443])
  })

  it('refuses a value of the wrong type and an unknown option', () => {
    const wrongType = evalModule({services: {osmoda: {enable: true, agentd: {approval: {ttlSecs: 5}}}}})
    expect(wrongType.ok).toBe(false)
    expect(!wrongType.ok && wrongType.error).toContain("services.osmoda.agentd.approval.ttlSecs' is not of type")
    const unknown = evalModule({services: {osmoda: {enable: true, agentd: {approval: {ttl: 600}}}}})
    expect(!unknown.ok && unknown.error).toContain("services.osmoda.agentd.approval.ttl' does not exist")
  })

  it('runs each enabled, built daemon as osmoda-<name>.service with Type=notify', () => {
    const services = system.systemd.services
    const running = ['agentd', 'watch', 'routines', 'egress', 'gateway']
    for (const daemon of running) {
      const unit = services[`osmoda-${daemon}`]
      expect(unit, daemon).toBeDefined()
      expect(unit!.serviceConfig).toMatchObject({Type: 'notify', NotifyAccess: 'all', StateDirectory: `osmoda/${daemon}`, StateDirectoryMode: '0700', UMask: '0077'})
      expect(unit!.serviceConfig.ExecStart).toMatch(new RegExp(`/bin/osmoda daemon ${daemon}$`))
      expect(unit!.serviceConfig.SupplementaryGroups).toEqual(expect.arrayContaining(['osmoda', 'osmoda-daemons']))
      expect(unit!.reloadTriggers).toHaveLength(1)
    }
    // keyd is off by default (SPEC §6) and the pending daemons get no unit yet
    for (const off of ['keyd', 'mesh', 'mcpd', 'teachd', 'voice']) expect(services[`osmoda-${off}`], off).toBeUndefined()
    expect(system.warnings.join('\n')).toContain('osmoda-mcpd is not built in this release')
    expect(services['osmoda-init']!.serviceConfig).toMatchObject({Type: 'oneshot', RemainAfterExit: true})
    expect(system.systemd.timers['osmoda-backup']).toMatchObject({timerConfig: {OnCalendar: '*-*-* 03:00:00', Persistent: true}})
  })

  it('hardens each unit so it can still do its job', () => {
    // Given every daemon's unit (pending ones included by clearing pendingDaemons)
    const res = evalModule({services: {osmoda: {enable: true, pendingDaemons: [], keyd: {enable: true}, voice: {enable: true}, mesh: {enable: true}}}})
    if (!res.ok) throw new Error(res.error)
    const unit = (name: string) => res.value.systemd.services[`osmoda-${name}`]!.serviceConfig
    // agentd: bubblewrap needs user namespaces and a setuid-free drop to osmoda-sandbox
    expect(unit('agentd')).not.toHaveProperty('RestrictNamespaces')
    expect(unit('agentd')).not.toHaveProperty('NoNewPrivileges')
    expect(unit('agentd')).not.toHaveProperty('ProtectSystem')
    expect(unit('agentd')).not.toHaveProperty('MemoryDenyWriteExecute')
    // keyd: offline, its KEK only as a credential
    expect(unit('keyd')).toMatchObject({PrivateNetwork: true, RestrictAddressFamilies: ['AF_UNIX'], CapabilityBoundingSet: '', NoNewPrivileges: true})
    expect(unit('keyd').LoadCredential).toEqual(['keyd.kek:/etc/osmoda/secrets/keyd.kek'])
    // egress and voice run as their own users with the operator token as a credential
    expect(unit('egress')).toMatchObject({User: 'osmoda-egress', LoadCredential: ['operator-token:/var/lib/osmoda/tokens/operator']})
    expect(unit('voice')).toMatchObject({User: 'osmoda-voice', PrivateNetwork: true})
    // every ProtectSystem=strict unit can still write its socket and the ledger
    for (const name of ['keyd', 'routines', 'mesh', 'mcpd', 'teachd', 'voice', 'egress', 'gateway']) {
      expect(unit(name).ProtectSystem, name).toBe('strict')
      expect(unit(name).ReadWritePaths, name).toEqual(expect.arrayContaining(['/run/osmoda', '/var/lib/osmoda']))
    }
    // gateway: loopback by default, closed firewall
    expect(res.value.etc['osmoda/gateway.json']).toMatchObject({listenAddress: '127.0.0.1', port: 18789})
    expect(res.value.networking.firewall.allowedTCPPorts).toEqual([])
    expect(unit('gateway').CapabilityBoundingSet).toContain('CAP_SETUID')
    expect(res.value.systemd.services['osmoda-mesh']!.after).toContain('network-online.target')
  })

  it('creates the accounts of SPEC §1.2: the agent reaches sockets but never the daemons\' group', () => {
    const users = system.users.users
    expect(users['osmoda-agent']).toMatchObject({group: 'osmoda-agent', extraGroups: ['osmoda']})
    expect(users['osmoda-agent']!.extraGroups).not.toContain('osmoda-daemons')
    expect(users['osmoda-sandbox']).toMatchObject({group: 'osmoda-sandbox', extraGroups: []})
    expect(users['osmoda-egress']).toMatchObject({group: 'osmoda', extraGroups: ['osmoda-daemons', 'osmoda-sandbox']})
    expect(Object.keys(system.users.groups).sort()).toEqual(['osmoda', 'osmoda-agent', 'osmoda-daemons', 'osmoda-sandbox'])
  })
})
