import {createHash, createPrivateKey, generateKeyPairSync} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {OsmodaError} from '../errors.js'
import {keyId, parseCheckpointNote, rawEd25519PublicKey, signCheckpoint, verifyCheckpointNote} from './checkpoint.js'

const ORIGIN = 'osmoda/inst_0123456789/ledger'
const ROOT = createHash('sha256').update('root').digest()

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return error instanceof OsmodaError ? error.code : `not an OsmodaError: ${String(error)}`
  }
  return undefined
}

interface Example {
  note_text: string
  signed_body: string
  parsed: {origin: string; tree_size: number; root_hash_hex: string}
  signature_lines: {key_name: string; key_id_hex: string; signature_hex: string}[]
}

describe('checkpoint notes', () => {
  const {privateKey, publicKey} = generateKeyPairSync('ed25519')

  it('signs the C2SP layout: body, empty line, em-dash signature line with key id and signature', () => {
    // When a tree head is signed
    const note = signCheckpoint({origin: ORIGIN, size: 42, rootHash: ROOT, privateKey, keyName: ORIGIN})
    // Then the text is the body, a blank line and one signature line
    const body = `${ORIGIN}\n42\n${ROOT.toString('base64')}\n`
    expect(note.startsWith(`${body}\n\u2014 ${ORIGIN} `)).toBe(true)
    expect(note.endsWith('\n')).toBe(true)
    // And the signature decodes to key id (SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pubkey)[:4]) ‖ 64-byte signature
    const sig = Buffer.from(note.trimEnd().split(' ').pop() as string, 'base64')
    const pub = rawEd25519PublicKey(publicKey)
    const expectedId = createHash('sha256').update(Buffer.concat([Buffer.from(ORIGIN), Buffer.from([0x0a, 0x01]), pub])).digest().subarray(0, 4)
    expect(sig).toHaveLength(68)
    expect(sig.subarray(0, 4).equals(expectedId)).toBe(true)
    expect(keyId(ORIGIN, pub).equals(expectedId)).toBe(true)
    // And it verifies with the public key
    expect(verifyCheckpointNote(note, publicKey, ORIGIN)).toMatchObject({origin: ORIGIN, size: 42, body})
    expect(verifyCheckpointNote(note, publicKey, ORIGIN).rootHash.equals(ROOT)).toBe(true)
  })

  it('reproduces the worked example of docs/ledger.md §5 byte for byte (Ed25519 is deterministic)', () => {
    // Given the Ed25519 key whose seed is 32 × 0x01 (PKCS#8 DER prefix ‖ seed)
    const seeded = createPrivateKey({key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, 1)]), format: 'der', type: 'pkcs8'})
    const name = 'osmoda/inst_example/ledger'
    // When the documented size-2 root is signed
    const note = signCheckpoint({origin: name, size: 2, rootHash: Buffer.from('b44dplz7A13/b0vQV0tHj+r8gOZCncxOJE/9MIWVgYU=', 'base64'), privateKey: seeded, keyName: name})
    // Then the key and the note are exactly the documented ones
    expect(rawEd25519PublicKey(seeded).toString('hex')).toBe('8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c')
    expect(keyId(name, rawEd25519PublicKey(seeded)).toString('hex')).toBe('e619765f')
    expect(note).toBe(
      'osmoda/inst_example/ledger\n2\nb44dplz7A13/b0vQV0tHj+r8gOZCncxOJE/9MIWVgYU=\n\n' +
        '\u2014 osmoda/inst_example/ledger 5hl2X0XcDZxh+p2tZAzjg5MyIzKbb5aio8BE+jNNKrDZyXDKzyY/lQ5ciMNeT6LE1pjre1Zv4LjgTdY9rJ5ii26CVwQ=\n',
    )
  })

  it('parses the C2SP tlog-checkpoint specification example', () => {
    // Given the spec's example note (its verifier key is not published, so only the format is checked)
    const example = JSON.parse(readFileSync(new URL('../../../../shared/vectors/merkle/tlog-checkpoint-example.json', import.meta.url), 'utf8')) as Example
    // When parsed
    const parsed = parseCheckpointNote(example.note_text)
    // Then every field matches the published breakdown
    expect(parsed.origin).toBe(example.parsed.origin)
    expect(parsed.size).toBe(example.parsed.tree_size)
    expect(parsed.rootHash.toString('hex')).toBe(example.parsed.root_hash_hex)
    expect(parsed.body).toBe(example.signed_body)
    expect(parsed.signatures.map((s) => ({key_name: s.keyName, key_id_hex: s.keyId.toString('hex'), signature_hex: s.signature.toString('hex')}))).toEqual(
      example.signature_lines.map(({key_name, key_id_hex, signature_hex}) => ({key_name, key_id_hex, signature_hex})),
    )
  })

  it('accepts a note with a second signature from another key, and keeps extension lines in the body', () => {
    const other = generateKeyPairSync('ed25519')
    const note = signCheckpoint({origin: ORIGIN, size: 7, rootHash: ROOT, privateKey, keyName: ORIGIN})
    const cosigned = note + signCheckpoint({origin: ORIGIN, size: 7, rootHash: ROOT, privateKey: other.privateKey, keyName: 'witness.example'}).split('\n\n')[1]
    expect(parseCheckpointNote(cosigned).signatures.map((s) => s.keyName)).toEqual([ORIGIN, 'witness.example'])
    expect(verifyCheckpointNote(cosigned, publicKey, ORIGIN).size).toBe(7)
    expect(verifyCheckpointNote(cosigned, other.publicKey, 'witness.example').size).toBe(7)
    const withExtension = `${ORIGIN}\n7\n${ROOT.toString('base64')}\nextension line\n\n\u2014 k AAAAAAA=\n`
    expect(parseCheckpointNote(withExtension).extensions).toEqual(['extension line'])
  })

  it('fails verification with the wrong key or the wrong key name', () => {
    const note = signCheckpoint({origin: ORIGIN, size: 42, rootHash: ROOT, privateKey, keyName: ORIGIN})
    const stranger = generateKeyPairSync('ed25519')
    expect(codeOf(() => verifyCheckpointNote(note, stranger.publicKey, ORIGIN))).toBe('VERIFICATION_FAILED')
    expect(codeOf(() => verifyCheckpointNote(note, publicKey, 'someone.else'))).toBe('VERIFICATION_FAILED')
  })

  it.each([
    ['the size', (n: string) => n.replace('\n42\n', '\n43\n')],
    ['the root', (n: string) => n.replace(ROOT.toString('base64'), Buffer.alloc(32, 7).toString('base64'))],
    ['the origin', (n: string) => n.replace(ORIGIN, `${ORIGIN}x`)],
    ['a signature byte', (n: string) => n.replace(/(\S)(\S{4}=?)\n$/, (_m, c: string, rest: string) => `${c === 'A' ? 'B' : 'A'}${rest}\n`)],
  ])('fails verification when %s is altered', (_what, alter) => {
    // Given a valid note When one part is changed Then no valid signature remains
    const note = signCheckpoint({origin: ORIGIN, size: 42, rootHash: ROOT, privateKey, keyName: ORIGIN})
    const altered = alter(note)
    expect(altered).not.toBe(note)
    expect(parseCheckpointNote(altered).signatures).toHaveLength(1)
    expect(codeOf(() => verifyCheckpointNote(altered, publicKey, ORIGIN))).toBe('VERIFICATION_FAILED')
  })

  const root64 = ROOT.toString('base64')
  it.each([
    ['empty text', ''],
    ['no trailing newline', `o\n1\n${root64}\n\n\u2014 k AAAAAAA=`],
    ['no blank line', `o\n1\n${root64}\n\u2014 k AAAAAAA=\n`],
    ['no signature lines', `o\n1\n${root64}\n\n`],
    ['a missing root line', `o\n1\n\n\u2014 k AAAAAAA=\n`],
    ['a size with a leading zero', `o\n01\n${root64}\n\n\u2014 k AAAAAAA=\n`],
    ['a negative size', `o\n-1\n${root64}\n\n\u2014 k AAAAAAA=\n`],
    ['a short root', `o\n1\n${Buffer.alloc(31).toString('base64')}\n\n\u2014 k AAAAAAA=\n`],
    ['a root that is not base64', `o\n1\n${'*'.repeat(44)}\n\n\u2014 k AAAAAAA=\n`],
    ['an empty origin', `\n1\n${root64}\n\n\u2014 k AAAAAAA=\n`],
    ['a hyphen instead of an em dash', `o\n1\n${root64}\n\n- k AAAAAAA=\n`],
    ['a signature too short for a key id', `o\n1\n${root64}\n\n\u2014 k AAAA\n`],
    ['a key name with a plus', `o\n1\n${root64}\n\n\u2014 a+b AAAAAAA=\n`],
    ['a blank line inside the body', `o\n1\n${root64}\n\next\n\n\u2014 k AAAAAAA=\n`],
  ])('refuses a note with %s as VALIDATION_FAILED', (_what, text) => {
    expect(codeOf(() => parseCheckpointNote(text))).toBe('VALIDATION_FAILED')
  })

  it('refuses to sign bad inputs', () => {
    expect(codeOf(() => signCheckpoint({origin: 'a\nb', size: 1, rootHash: ROOT, privateKey, keyName: 'k'}))).toBe('VALIDATION_FAILED')
    expect(codeOf(() => signCheckpoint({origin: 'o', size: -1, rootHash: ROOT, privateKey, keyName: 'k'}))).toBe('VALIDATION_FAILED')
    expect(codeOf(() => signCheckpoint({origin: 'o', size: 1, rootHash: ROOT.subarray(1), privateKey, keyName: 'k'}))).toBe('VALIDATION_FAILED')
    expect(codeOf(() => signCheckpoint({origin: 'o', size: 1, rootHash: ROOT, privateKey, keyName: 'a b'}))).toBe('VALIDATION_FAILED')
    const rsa = generateKeyPairSync('rsa', {modulusLength: 1024})
    expect(codeOf(() => signCheckpoint({origin: 'o', size: 1, rootHash: ROOT, privateKey: rsa.privateKey, keyName: 'k'}))).toBe('VALIDATION_FAILED')
  })
})
