// Handshake patterns as data and the protocol-name parser: one HandshakeState interprets them, so
// the classical XX (interop vectors) and the hybrid XXhfs osmoda speaks cannot drift apart.
import {AES_GCM, BLAKE2S, CHACHA_POLY, type CipherFunctions, DH_25519, type DhFunctions, type HashFunctions, SHA256} from './crypto-functions.js'
import {type Kem, ML_KEM_768} from './kem.js'

/** A Noise token, including the HFS extension's `e1` and `ekem1`. */
export type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss' | 'psk' | 'e1' | 'ekem1'

/** A handshake pattern: pre-messages per side, then messages alternating from the initiator. */
export interface HandshakePattern {
  readonly name: string
  readonly preInitiator: readonly Token[]
  readonly preResponder: readonly Token[]
  readonly messages: readonly (readonly Token[])[]
}

// Spec §7.4 and noise-hfs §4 (XXhfs adds e1 to the first message and ekem1 right after ee).
const BASE_PATTERNS: Record<string, Omit<HandshakePattern, 'name'>> = {
  NN: {preInitiator: [], preResponder: [], messages: [['e'], ['e', 'ee']]},
  XX: {preInitiator: [], preResponder: [], messages: [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']]},
  IK: {preInitiator: [], preResponder: ['s'], messages: [['e', 'es', 's', 'ss'], ['e', 'ee', 'se']]},
  NNhfs: {preInitiator: [], preResponder: [], messages: [['e', 'e1'], ['e', 'ee', 'ekem1']]},
  XXhfs: {preInitiator: [], preResponder: [], messages: [['e', 'e1'], ['e', 'ee', 'ekem1', 's', 'es'], ['s', 'se']]},
}

/** Everything a protocol name selects. */
export interface Protocol {
  readonly name: string
  readonly pattern: HandshakePattern
  readonly dh: DhFunctions
  readonly kem: Kem | null
  readonly cipher: CipherFunctions
  readonly hash: HashFunctions
}

const DHS: Record<string, DhFunctions> = {'25519': DH_25519}
const KEMS: Record<string, Kem> = {MLKEM768: ML_KEM_768}
const CIPHERS: Record<string, CipherFunctions> = {ChaChaPoly: CHACHA_POLY, AESGCM: AES_GCM}
const HASHES: Record<string, HashFunctions> = {SHA256, BLAKE2s: BLAKE2S}

/** Parses `Noise_<pattern>_<dh>[+<kem>]_<cipher>_<hash>`; throws on anything this module does not implement. */
export function parseProtocolName(name: string): Protocol {
  const parts = name.split('_')
  if (parts.length !== 5 || parts[0] !== 'Noise') throw new Error(`not a Noise protocol name: ${name}`)
  const [, patternName, dhName, cipherName, hashName] = parts as [string, string, string, string, string]
  const [dhOnly, kemName, ...extra] = dhName.split('+')
  const dh = DHS[dhOnly ?? '']
  const cipher = CIPHERS[cipherName]
  const hash = HASHES[hashName]
  if (!dh || extra.length > 0) throw new Error(`unsupported DH functions: ${dhName}`)
  if (!cipher) throw new Error(`unsupported cipher: ${cipherName}`)
  if (!hash) throw new Error(`unsupported hash: ${hashName}`)
  const pattern = parsePattern(patternName)
  const usesKem = pattern.messages.some((m) => m.includes('e1'))
  let kem: Kem | null = null
  if (kemName !== undefined) {
    kem = KEMS[kemName] ?? null
    if (!kem) throw new Error(`unsupported KEM: ${kemName}`)
  }
  if (usesKem !== (kem !== null)) throw new Error(`${patternName} ${usesKem ? 'needs' : 'takes no'} KEM in ${dhName}`)
  return {name, pattern, dh, kem, cipher, hash}
}

/** Base pattern plus `pskN` modifiers (spec §9.2): psk0 opens the first message, pskN closes message N. */
function parsePattern(full: string): HandshakePattern {
  const match = /^([A-Z]+(?:hfs)?)((?:psk\d+)(?:\+psk\d+)*)?$/.exec(full)
  const base = match ? BASE_PATTERNS[match[1] ?? ''] : undefined
  if (!match || !base) throw new Error(`unsupported handshake pattern: ${full}`)
  const messages = base.messages.map((m) => [...m])
  for (const modifier of match[2] ? match[2].split('+') : []) {
    const index = Number(modifier.slice(3))
    if (index === 0) messages[0]?.unshift('psk')
    else if (index <= messages.length) messages[index - 1]?.push('psk')
    else throw new Error(`${modifier} is past the last message of ${full}`)
  }
  return {name: full, preInitiator: base.preInitiator, preResponder: base.preResponder, messages}
}
