import {randomBytes} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {canonicalJson} from '../../lib/ledger/canonical-json.js'
import {identityDocProblem, signIdentityDoc} from './identity.js'
import {decodeInvite, encodeInvite} from './invite-code.js'
import {makeTestKeys} from './test-keys.js'

const NOW = new Date('2026-11-26T10:00:00.000Z')
const fields = (expires = '2026-11-26T11:00:00.000Z') => ({endpoint: '127.0.0.1:18800', invite_id: 'inv_01JDX8Q4S1T6V0W7Y2Z3A4B5C6', secret: randomBytes(32), expires_at: expires})

function tamper(code: string, edit: (body: Record<string, unknown>) => void): string {
  const [prefix, body, sig] = [code.slice(0, 15), ...code.slice(15).split('.')] as [string, string, string]
  const parsed = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>
  edit(parsed)
  return `${prefix}${Buffer.from(canonicalJson(parsed)).toString('base64url')}.${sig}`
}

describe('identity documents', () => {
  it('verify, and break when any field or the key changes', () => {
    // Given a signed document
    const keys = makeTestKeys()
    // Then it verifies; a changed capability, a foreign Noise key or a foreign instance_id does not
    expect(identityDocProblem(keys.doc)).toBeNull()
    expect(identityDocProblem({...keys.doc, capabilities: ['mesh.v1']})).toMatch(/signature/)
    const other = makeTestKeys()
    expect(identityDocProblem({...keys.doc, noise_static_pubkey: other.doc.noise_static_pubkey})).toMatch(/instance_id/)
    expect(identityDocProblem({...keys.doc, instance_id: other.doc.instance_id})).toMatch(/instance_id/)
    // And a document for another node's Noise key signed by this node's key is consistent but names the other key
    const forged = signIdentityDoc(keys.signingKey, other.noise.publicKey, keys.doc.created_at)
    expect(forged.instance_id).toBe(other.doc.instance_id)
  })
})

describe('invite codes', () => {
  it('round-trip and give the code hash the acceptor keeps', () => {
    // Given an invite
    const keys = makeTestKeys()
    const f = fields()
    const code = encodeInvite(keys, f)
    // When it is decoded
    const decoded = decodeInvite(code, NOW)
    // Then every field survives and the secret is the one created
    expect(code.startsWith('osmoda-invite1.')).toBe(true)
    expect(decoded.body.inviter.instance_id).toBe(keys.doc.instance_id)
    expect(decoded.secret.equals(f.secret)).toBe(true)
    expect(decoded.codeSha256).toMatch(/^[0-9a-f]{64}$/)
    expect(decodeInvite(`  ${code}\n`, NOW).codeSha256).toBe(decoded.codeSha256)
  })

  const keys = makeTestKeys()
  const good = encodeInvite(keys, fields())
  const other = makeTestKeys()
  const cases: {name: string; code: string; want: string}[] = [
    {name: 'wrong prefix', code: good.replace('osmoda-invite1.', 'osmoda-invite2.'), want: 'INVITE_INVALID'},
    {name: 'no signature part', code: good.split('.').slice(0, 2).join('.'), want: 'INVITE_INVALID'},
    {name: 'garbage body', code: 'osmoda-invite1.bm90IGpzb24.AAAA', want: 'INVITE_INVALID'},
    {name: 'flipped signature', code: good.slice(0, -3) + (good.endsWith('AAA') ? 'BBB' : 'AAA'), want: 'INVITE_INVALID'},
    {name: 'endpoint changed', code: tamper(good, (b) => (b.endpoint = '10.0.0.1:1')), want: 'INVITE_INVALID'},
    {name: 'expiry extended', code: tamper(good, (b) => (b.expires_at = '2030-01-01T00:00:00.000Z')), want: 'INVITE_INVALID'},
    {name: 'inviter swapped for another node', code: tamper(good, (b) => (b.inviter = other.doc)), want: 'INVITE_INVALID'},
    {name: 'unknown field', code: tamper(good, (b) => (b.extra = 1)), want: 'INVITE_INVALID'},
    {name: 'signed by another key', code: encodeInvite({...keys, signingKey: other.signingKey}, fields()), want: 'INVITE_INVALID'},
    {name: 'expired', code: encodeInvite(keys, fields('2026-11-26T09:59:59.999Z')), want: 'INVITE_EXPIRED'},
  ]
  it.each(cases)('refuse $name with $want', ({code, want}) => {
    expect(() => decodeInvite(code, NOW)).toThrow(expect.objectContaining({code: want}))
  })
})
