import {generateKeyPairSync} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {allowsNet, parsePermission, signCapability, verifyCapability, type CapabilityClaims} from './capability.js'

const node = generateKeyPairSync('ed25519')
const other = generateKeyPairSync('ed25519')
const NOW = Date.UTC(2026, 10, 26, 12, 0, 0)
const claims = (over: Partial<CapabilityClaims> = {}): CapabilityClaims => ({
  jti: 'cap_01JD0000000000000000000000',
  sub: 'agent:ops',
  iat: NOW / 1000,
  exp: NOW / 1000 + 900,
  perms: ['net:api.example.com', 'fs:read:/srv/data'],
  aud: ['egress', 'sandbox'],
  ...over,
})
const verifyAt = (token: string, over: {now?: number; audience?: 'egress' | 'sandbox'; revoked?: string[]; key?: typeof node.publicKey} = {}) =>
  verifyCapability(token, {
    verifyKey: over.key ?? node.publicKey,
    audience: over.audience ?? 'egress',
    now: over.now ?? NOW,
    isRevoked: (jti) => (over.revoked ?? []).includes(jti),
  })

describe('capability tokens', () => {
  it('verifies a token it signed and returns its claims', () => {
    const token = signCapability(claims(), node.privateKey)
    expect(token).toMatch(/^osmcap1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
    expect(verifyAt(token)).toEqual({valid: true, claims: claims()})
  })

  it('refuses another key, changed claims, the wrong audience, expiry and revocation, each with its reason', () => {
    // Given a valid token for the sandbox only
    const token = signCapability(claims({aud: ['sandbox']}), node.privateKey)
    const [prefix, body, sig] = token.split('.') as [string, string, string]
    const widened = Buffer.from(JSON.stringify({...claims({aud: ['sandbox']}), perms: ['net:evil.example']})).toString('base64url')
    // Then each way of misusing it fails for its own reason
    expect(verifyAt(token, {audience: 'sandbox', key: other.publicKey}).valid).toBe(false)
    expect(verifyAt(token, {audience: 'sandbox', key: other.publicKey})).toMatchObject({reason: 'bad_signature'})
    expect(verifyAt(`${prefix}.${widened}.${sig}`, {audience: 'sandbox'})).toMatchObject({valid: false})
    expect(verifyAt(token, {audience: 'egress'})).toMatchObject({valid: false, reason: 'wrong_audience'})
    expect(verifyAt(token, {audience: 'sandbox', now: NOW + 900_000})).toMatchObject({valid: false, reason: 'expired'})
    expect(verifyAt(token, {audience: 'sandbox', now: NOW + 899_000})).toMatchObject({valid: true})
    expect(verifyAt(token, {audience: 'sandbox', revoked: [claims().jti]})).toMatchObject({valid: false, reason: 'revoked'})
    expect(`${prefix}.${body}.${sig}`).toBe(token)
  })

  it('a token signed by another key is never reported as revoked or expired (no oracle for forgeries)', () => {
    const forged = signCapability(claims({exp: NOW / 1000 - 1}), other.privateKey)
    expect(verifyAt(forged, {revoked: [claims().jti]})).toEqual({valid: false, reason: 'bad_signature', claims: null})
  })

  it.each([
    ['empty', ''],
    ['wrong prefix', 'osmcap2.e30.AAAA'],
    ['two parts', 'osmcap1.e30'],
    ['four parts', 'osmcap1.e30.AA.AA'],
    ['padding', 'osmcap1.e30=.AAAA'],
    ['not json', `osmcap1.${Buffer.from('nope').toString('base64url')}.${Buffer.alloc(64).toString('base64url')}`],
    ['extra claim', `osmcap1.${Buffer.from(JSON.stringify({...claims(), admin: true})).toString('base64url')}.${Buffer.alloc(64).toString('base64url')}`],
    ['non-canonical claims', `osmcap1.${Buffer.from(JSON.stringify(claims(), null, 1)).toString('base64url')}.${Buffer.alloc(64).toString('base64url')}`],
    ['huge', `osmcap1.${'A'.repeat(70_000)}.AAAA`],
  ])('rejects a malformed token: %s', (_name, token) => {
    expect(verifyAt(token)).toEqual({valid: false, reason: 'malformed', claims: null})
  })

  it('refuses to sign bad permissions or none at all', () => {
    expect(() => signCapability(claims({perms: []}), node.privateKey)).toThrow(/1\.\.64/)
    expect(() => signCapability(claims({perms: ['net:exa mple.com']}), node.privateKey)).toThrow(/host/)
  })
})

describe('permission grammar', () => {
  it.each([
    ['net:api.example.com', {kind: 'net', host: 'api.example.com', port: 443, wildcard: false}],
    ['net:API.Example.com:8443', {kind: 'net', host: 'api.example.com', port: 8443, wildcard: false}],
    ['net:*.example.com', {kind: 'net', host: 'example.com', port: 443, wildcard: true}],
    ['net:127.0.0.1:8080', {kind: 'net', host: '127.0.0.1', port: 8080, wildcard: false}],
    ['net:[::1]:8443', {kind: 'net', host: '[::1]', port: 8443, wildcard: false}],
    ['fs:read:/srv/data/', {kind: 'fs', access: 'read', path: '/srv/data'}],
    ['fs:write:/', {kind: 'fs', access: 'write', path: '/'}],
  ])('parses %s', (text, expected) => {
    expect(parsePermission(text)).toEqual(expected)
  })

  it.each(['net:', 'net:a..b', 'net:*.', 'net:host:0', 'net:host:65536', 'net:ho_st', 'net:*.*.com', 'fs:read:relative', 'fs:write:/a/../b', 'fs:read:/a\0b', 'fs:exec:/bin', 'http:x', 'net:-bad.com'])(
    'rejects %j',
    (text) => {
      expect(() => parsePermission(text)).toThrow()
    },
  )

  it('matches hosts exactly, wildcards by subdomain only, and ports exactly', () => {
    const perms = ['net:api.example.com', 'net:*.cdn.example.net:8443']
    expect(allowsNet(perms, 'api.example.com', 443)).toBe(true)
    expect(allowsNet(perms, 'API.example.com.', 443)).toBe(true)
    expect(allowsNet(perms, 'api.example.com', 80)).toBe(false)
    expect(allowsNet(perms, 'xapi.example.com', 443)).toBe(false)
    expect(allowsNet(perms, 'a.b.cdn.example.net', 8443)).toBe(true)
    expect(allowsNet(perms, 'cdn.example.net', 8443)).toBe(false)
    expect(allowsNet(perms, 'evilcdn.example.net', 8443)).toBe(false)
  })
})
