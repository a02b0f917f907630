import {createPublicKey, sign, verify, type KeyObject} from 'node:crypto'
import {UsageError, VerificationError} from '../errors.js'
import {sha256} from './sha256.js'

/** C2SP signed-note signature type byte for Ed25519. */
const ED25519_SIG_TYPE = 0x01
const SIGNATURE_PREFIX = '\u2014 '
// C2SP signed-note key names: non-empty, no Unicode spaces, no '+'.
const KEY_NAME_RE = /^[^\s+]+$/u
const SIZE_RE = /^(0|[1-9][0-9]*)$/
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** One signature line of a signed note. */
export interface NoteSignature {
  keyName: string
  /** The first 4 bytes of the decoded signature: which key signed. */
  keyId: Buffer
  /** The rest: for Ed25519, the 64-byte signature over the body. */
  signature: Buffer
}

/** A parsed C2SP checkpoint (tlog-checkpoint) note. */
export interface ParsedCheckpoint {
  origin: string
  size: number
  rootHash: Buffer
  /** Optional lines after the root (tlog-checkpoint extension lines). */
  extensions: string[]
  /** The signed text: `<origin>\n<size>\n<base64 root>\n` plus any extension lines. */
  body: string
  signatures: NoteSignature[]
}

/** Inputs of signCheckpoint. */
export interface SignCheckpointInput {
  origin: string
  size: number
  rootHash: Buffer
  privateKey: KeyObject
  keyName: string
}

function malformed(problem: string): never {
  throw new UsageError(`malformed checkpoint note: ${problem}`, {details: [`note: ${problem}`], hint: 'pass the note exactly as `osmoda ledger checkpoint --out` wrote it'})
}

function decodeBase64(text: string, what: string): Buffer {
  if (!BASE64_RE.test(text)) malformed(`${what} is not base64`)
  const bytes = Buffer.from(text, 'base64')
  // Non-zero padding bits decode silently; requiring the canonical form keeps one text per value.
  if (bytes.toString('base64') !== text) malformed(`${what} is not canonical base64`)
  return bytes
}

/** The raw 32-byte Ed25519 public key of a public or private KeyObject. */
export function rawEd25519PublicKey(key: KeyObject): Buffer {
  if (key.asymmetricKeyType !== 'ed25519') throw new UsageError(`expected an Ed25519 key, got ${key.asymmetricKeyType ?? key.type}`)
  const publicKey = key.type === 'private' ? createPublicKey(key) : key
  const jwk = publicKey.export({format: 'jwk'})
  return Buffer.from(jwk.x as string, 'base64url')
}

/** C2SP signed-note key id: SHA-256(keyName ‖ 0x0A ‖ 0x01 ‖ Ed25519 public key)[:4]. */
export function keyId(keyName: string, ed25519PublicKey: Buffer): Buffer {
  if (ed25519PublicKey.length !== 32) throw new UsageError(`an Ed25519 public key is 32 bytes, got ${ed25519PublicKey.length}`)
  return sha256(Buffer.concat([Buffer.from(keyName, 'utf8'), Buffer.from([0x0a, ED25519_SIG_TYPE]), ed25519PublicKey])).subarray(0, 4)
}

/** The checkpoint body `<origin>\n<size>\n<base64 root>\n`, i.e. the signed message. */
export function checkpointBody(origin: string, size: number, rootHash: Buffer): string {
  if (origin.length === 0 || /[\n\r]/.test(origin)) throw new UsageError('origin must be one non-empty line', {details: ['origin: non-empty, no newline']})
  if (!Number.isSafeInteger(size) || size < 0) throw new UsageError(`tree size must be an integer ≥ 0, got ${size}`, {details: ['size: integer ≥ 0']})
  if (rootHash.length !== 32) throw new UsageError(`root hash must be 32 bytes, got ${rootHash.length}`, {details: ['rootHash: 32 bytes']})
  return `${origin}\n${size}\n${rootHash.toString('base64')}\n`
}

/**
 * Signs a tree head as a C2SP signed note: the body, an empty line, and one signature line
 * `— <keyName> <base64(keyId ‖ Ed25519 signature over the body)>`.
 */
export function signCheckpoint(input: SignCheckpointInput): string {
  if (!KEY_NAME_RE.test(input.keyName)) throw new UsageError(`invalid key name ${JSON.stringify(input.keyName)}`, {details: ['keyName: non-empty, no spaces or +']})
  const body = checkpointBody(input.origin, input.size, input.rootHash)
  const id = keyId(input.keyName, rawEd25519PublicKey(input.privateKey))
  const signature = sign(null, Buffer.from(body, 'utf8'), input.privateKey)
  return `${body}\n${SIGNATURE_PREFIX}${input.keyName} ${Buffer.concat([id, signature]).toString('base64')}\n`
}

function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(SIGNATURE_PREFIX)) malformed('a signature line must start with "\u2014 " (em dash, space)')
  const rest = line.slice(SIGNATURE_PREFIX.length)
  const space = rest.indexOf(' ')
  if (space <= 0) malformed('a signature line is "\u2014 <key name> <base64>"')
  const keyName = rest.slice(0, space)
  if (!KEY_NAME_RE.test(keyName)) malformed(`invalid key name ${JSON.stringify(keyName)}`)
  const bytes = decodeBase64(rest.slice(space + 1), 'a signature')
  if (bytes.length < 5) malformed('a signature must hold a 4-byte key id and a signature')
  return {keyName, keyId: bytes.subarray(0, 4), signature: bytes.subarray(4)}
}

/** Parses a C2SP checkpoint note; throws VALIDATION_FAILED naming what is malformed. Does not check signatures. */
export function parseCheckpointNote(text: string): ParsedCheckpoint {
  if (typeof text !== 'string' || text.length === 0) malformed('empty')
  if (!text.endsWith('\n')) malformed('it must end with a newline')
  // Signatures follow the last empty line; the body itself never contains one.
  const split = text.lastIndexOf('\n\n')
  if (split < 0) malformed('no empty line before the signatures')
  const body = text.slice(0, split + 1)
  const signatureLines = text.slice(split + 2, -1).split('\n')
  const lines = body.slice(0, -1).split('\n')
  if (lines.length < 3) malformed('the body needs an origin, a tree size and a root hash line')
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]]
  if (origin.length === 0) malformed('empty origin line')
  if (!SIZE_RE.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) malformed(`tree size ${JSON.stringify(sizeText)} is not a decimal integer`)
  const rootHash = decodeBase64(rootText, 'the root hash')
  if (rootHash.length !== 32) malformed(`the root hash is ${rootHash.length} bytes, not 32`)
  if (extensions.some((line) => line.length === 0)) malformed('empty line inside the body')
  if (signatureLines.length === 1 && signatureLines[0] === '') malformed('no signature lines')
  const signatures = signatureLines.map(parseSignatureLine)
  return {origin, size: Number(sizeText), rootHash, extensions, body, signatures}
}

/**
 * Parses a note and checks that it carries a valid Ed25519 signature by `keyName` with
 * `publicKey`; returns the parsed note, or throws VerificationError (malformed notes: UsageError).
 */
export function verifyCheckpointNote(text: string, publicKey: KeyObject, keyName: string): ParsedCheckpoint {
  const parsed = parseCheckpointNote(text)
  const id = keyId(keyName, rawEd25519PublicKey(publicKey))
  const message = Buffer.from(parsed.body, 'utf8')
  for (const s of parsed.signatures) {
    if (s.keyName !== keyName || !s.keyId.equals(id) || s.signature.length !== 64) continue
    if (verify(null, message, publicKey, s.signature)) return parsed
  }
  throw new VerificationError(`checkpoint note (size ${parsed.size}) has no valid signature by ${keyName} (key id ${id.toString('hex')})`, {
    details: {origin: parsed.origin, size: parsed.size, key_name: keyName, key_id: id.toString('hex'), signers: parsed.signatures.map((s) => s.keyName)},
    hint: 'the note was altered or signed by another key; check --pubkey',
  })
}
