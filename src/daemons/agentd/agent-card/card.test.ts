import {generateKeyPairSync} from 'node:crypto'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {rawPublicKey} from '../../../lib/identity.js'
import {pathsFrom, type DaemonName} from '../../../lib/paths.js'
import {AgentCard, AgentRegistration} from './api.js'
import {buildAgentCard, defaultServices, type CardFacts} from './build.js'
import {detectEnabledDaemons, gatewayBaseUrl} from './enabled-daemons.js'
import {agentCardSigningPayload, ed25519KeyId, signAgentCard, verifyAgentCard, withoutDefaults} from './signature.js'

// A2A v1.0 AgentCard fields marked REQUIRED in specification/a2a.proto, and those of its parts.
const REQUIRED_CARD_FIELDS = ['name', 'description', 'supportedInterfaces', 'version', 'capabilities', 'defaultInputModes', 'defaultOutputModes', 'skills']
const REQUIRED_INTERFACE_FIELDS = ['url', 'protocolBinding', 'protocolVersion']
const REQUIRED_SKILL_FIELDS = ['id', 'name', 'description', 'tags']

const node = generateKeyPairSync('ed25519')
const stranger = generateKeyPairSync('ed25519')

const facts = (over: Partial<CardFacts> = {}): CardFacts => ({
  name: 'osmoda',
  description: 'AI-native system agent with auditable safety',
  image: null,
  version: '0.1.0',
  daemons: ['agentd'],
  gatewayUrl: 'http://127.0.0.1:18789',
  socket: (name) => `/run/osmoda/${name}.sock`,
  ...over,
})

const signed = (over: Partial<CardFacts> = {}) => signAgentCard(buildAgentCard(facts(over)).card, node.privateKey)

describe('the A2A card', () => {
  it('has every field A2A v1.0 requires, with SPEC §2.10 values', () => {
    // When a card is built and signed
    const card = signed()
    // Then the required fields are present at every level and it parses as an AgentCard
    for (const field of REQUIRED_CARD_FIELDS) expect(card, field).toHaveProperty(field)
    for (const field of REQUIRED_INTERFACE_FIELDS) expect(card.supportedInterfaces[0], field).toHaveProperty(field)
    for (const skill of card.skills) for (const field of REQUIRED_SKILL_FIELDS) expect(skill, field).toHaveProperty(field)
    expect(AgentCard.parse(card)).toEqual(card)
    expect(card).toMatchObject({
      supportedInterfaces: [{url: 'http://127.0.0.1:18789', protocolBinding: 'HTTP+JSON', protocolVersion: '1.0'}],
      capabilities: {streaming: true},
      securitySchemes: {bearer: {httpAuthSecurityScheme: {scheme: 'Bearer'}}},
    })
    // And one EdDSA signature whose kid is the node key's RFC 7638 thumbprint
    expect(card.signatures).toHaveLength(1)
    const header = JSON.parse(Buffer.from(card.signatures[0]!.protected, 'base64url').toString())
    expect(header).toEqual({alg: 'EdDSA', typ: 'JOSE', kid: ed25519KeyId(node.publicKey)})
  })

  it('publishes exactly what it signs: no default values left in the card', () => {
    const {signatures: _s, ...unsigned} = signed({daemons: ['agentd', 'keyd', 'watch'], image: 'https://example.com/a.png'})
    expect(withoutDefaults(unsigned)).toEqual(unsigned)
    expect(agentCardSigningPayload(unsigned)).toBe(agentCardSigningPayload({...unsigned, signatures: []}))
  })

  it('lists one skill per enabled daemon, in daemon order', () => {
    expect(signed().skills.map((s) => s.id)).toEqual(['system-administration'])
    expect(signed({daemons: ['agentd', 'gateway', 'keyd', 'watch']}).skills.map((s) => s.id)).toEqual(['system-administration', 'wallet', 'safeswitch', 'chat'])
  })

  it('puts the configured image on the card as iconUrl and leaves it out otherwise', () => {
    expect(signed({image: 'https://example.com/a.png'}).iconUrl).toBe('https://example.com/a.png')
    expect(signed()).not.toHaveProperty('iconUrl')
  })
})

describe('verifyAgentCard', () => {
  it('accepts the card with the node key, as KeyObject or raw 32 bytes', () => {
    const card = signed()
    expect(verifyAgentCard(card, node.publicKey)).toBe(true)
    expect(verifyAgentCard(card, rawPublicKey(node.privateKey))).toBe(true)
    // JSON round trips and key order do not matter: the payload is canonical
    const reordered = Object.fromEntries(Object.entries(JSON.parse(JSON.stringify(card))).reverse())
    expect(verifyAgentCard(reordered, node.publicKey)).toBe(true)
  })

  it('rejects another key', () => {
    expect(verifyAgentCard(signed(), stranger.publicKey)).toBe(false)
    // Even when the stranger's signature is also present, the node key verifies only the node's
    const byStranger = signAgentCard(buildAgentCard(facts()).card, stranger.privateKey)
    expect(verifyAgentCard(byStranger, node.publicKey)).toBe(false)
  })

  it.each([
    ['name changed', (c: any) => (c.name = 'evil')],
    ['description changed', (c: any) => (c.description += '.')],
    ['interface url changed', (c: any) => (c.supportedInterfaces[0].url = 'http://attacker:18789')],
    ['skill added', (c: any) => c.skills.push({id: 'x', name: 'x', description: 'x', tags: []})],
    ['skill tag changed', (c: any) => (c.skills[0].tags[0] = 'windows')],
    ['capability flipped', (c: any) => (c.capabilities.streaming = false)],
    ['field added', (c: any) => (c.documentationUrl = 'https://evil.example')],
    ['version changed', (c: any) => (c.version = '9.9.9')],
  ])('rejects a card whose %s', (_name, mutate) => {
    // Given a signed card / When one field changes / Then it no longer verifies
    const card = structuredClone(signed())
    expect(verifyAgentCard(card, node.publicKey)).toBe(true)
    mutate(card)
    expect(verifyAgentCard(card, node.publicKey)).toBe(false)
  })

  it.each([
    ['no signatures', (c: any) => delete c.signatures],
    ['empty signatures', (c: any) => (c.signatures = [])],
    ['alg swapped to none', (c: any) => (c.signatures[0].protected = Buffer.from(JSON.stringify({alg: 'none', kid: ed25519KeyId(node.publicKey)})).toString('base64url'))],
    ['kid missing', (c: any) => (c.signatures[0].protected = Buffer.from(JSON.stringify({alg: 'EdDSA', typ: 'JOSE'})).toString('base64url'))],
    ['crit header', (c: any) => (c.signatures[0].protected = Buffer.from(JSON.stringify({alg: 'EdDSA', kid: ed25519KeyId(node.publicKey), crit: ['x']})).toString('base64url'))],
    ['garbage signature', (c: any) => (c.signatures[0].signature = '!!!')],
    ['truncated signature', (c: any) => (c.signatures[0].signature = c.signatures[0].signature.slice(0, 20))],
    ['not an object', (c: any) => (c.signatures = 'x')],
  ])('rejects %s without throwing', (_name, mutate) => {
    const card = structuredClone(signed())
    mutate(card)
    expect(verifyAgentCard(card, node.publicKey)).toBe(false)
  })

  it('accepts a card carrying a bad signature beside a good one (key rotation)', () => {
    const card = structuredClone(signed())
    card.signatures.unshift({protected: 'e30', signature: 'AAAA'})
    expect(verifyAgentCard(card, node.publicKey)).toBe(true)
  })

  it('applies A2A default removal: an explicit empty optional list or null does not change the payload', () => {
    const card = structuredClone(signed()) as any
    card.capabilities.extensions = []
    card.provider = null
    card.skills[0].examples = []
    expect(verifyAgentCard(card, node.publicKey)).toBe(true)
  })
})

describe('the ERC-8004 registration', () => {
  it('has the registration-v1 shape with the default services', () => {
    // Given watch and keyd enabled
    const {registration} = buildAgentCard(facts({daemons: ['agentd', 'watch', 'keyd']}))
    // Then it is a registration-v1 file with mcp, a2a, safeswitch and wallet from real socket paths
    expect(AgentRegistration.parse(registration)).toEqual(registration)
    expect(registration).toEqual({
      type: 'https://eips.ethereum.org/EIPS/eip-8004#registration-v1',
      name: 'osmoda',
      description: 'AI-native system agent with auditable safety',
      image: null,
      services: [
        {name: 'mcp', endpoint: 'stdio:osmoda mcp', version: '2025-11-25'},
        {name: 'a2a', endpoint: 'http://127.0.0.1:18789/.well-known/agent-card.json', version: '1.0'},
        {name: 'safeswitch', endpoint: 'unix:/run/osmoda/watch.sock', version: '0.1.0'},
        {name: 'wallet', endpoint: 'unix:/run/osmoda/keyd.sock', version: '0.1.0'},
      ],
      x402Support: false,
      active: true,
      registrations: [],
      supportedTrust: ['eip-8004', 'hash-chain-ledger'],
    })
  })

  it('leaves safeswitch and wallet out when watch and keyd are not enabled, and takes given services instead of the defaults', () => {
    expect(defaultServices(facts()).map((s) => s.name)).toEqual(['mcp', 'a2a'])
    const given = [{name: 'web', endpoint: 'https://ops.example.com', version: '1'}]
    expect(buildAgentCard(facts({services: given, daemons: ['agentd', 'keyd']})).registration.services).toEqual(given)
  })
})

describe('enabled daemons', () => {
  let dir: string
  const servers: Server[] = []
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'osmoda-card-'))
  })
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
    rmSync(dir, {recursive: true, force: true})
  })
  const listen = (path: string) =>
    new Promise<void>((resolve) => {
      const server = createServer((socket) => socket.destroy())
      servers.push(server)
      server.listen(path, resolve)
    })

  it('counts agentd, and other daemons only when this build has them and their socket answers', async () => {
    // Given keyd and watch listening, mesh with only a stale socket file, and voice listening but not in this build
    const paths = pathsFrom({runDir: dir, stateDir: dir, configDir: dir})
    await listen(paths.socket('keyd'))
    await listen(paths.socket('watch'))
    await listen(paths.socket('voice'))
    writeFileSync(paths.socket('mesh'), '')
    const available: DaemonName[] = ['agentd', 'keyd', 'watch', 'mesh']
    // When the enabled daemons are detected
    const enabled = await detectEnabledDaemons(paths, available)
    // Then exactly agentd, keyd and watch count
    expect(enabled).toEqual(['agentd', 'keyd', 'watch'])
    expect(await detectEnabledDaemons(paths, ['agentd'])).toEqual(['agentd'])
  })

  it('takes the gateway URL from gateway.json when it sets one, else the default', () => {
    const paths = pathsFrom({runDir: dir, stateDir: dir, configDir: dir})
    expect(gatewayBaseUrl(paths)).toBe('http://127.0.0.1:18789')
    writeFileSync(paths.configFile('gateway'), JSON.stringify({listenAddress: '::1', port: 8443}))
    expect(gatewayBaseUrl(paths)).toBe('http://[::1]:8443')
    writeFileSync(paths.configFile('gateway'), JSON.stringify({listenAddress: 'a b/c', port: 'x'}))
    expect(gatewayBaseUrl(paths)).toBe('http://127.0.0.1:18789')
    writeFileSync(paths.configFile('gateway'), '{not json')
    expect(gatewayBaseUrl(paths)).toBe('http://127.0.0.1:18789')
  })
})
