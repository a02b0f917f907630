import {secp256k1} from '@noble/curves/secp256k1.js'
import {keccak_256} from '@noble/hashes/sha3.js'
import {OsmodaError} from '../../lib/errors.js'
import {bigintToBytes, concatBytes, rlpEncode, type RlpItem} from './rlp.js'

/** The unsigned fields of an EIP-1559 (type 2) transaction; amounts are bigint base units. */
export interface Eip1559Fields {
  chainId: bigint
  nonce: bigint
  maxPriorityFeePerGas: bigint
  maxFeePerGas: bigint
  gasLimit: bigint
  /** 20 address bytes (no contract creation). */
  to: Uint8Array
  value: bigint
  data: Uint8Array
  accessList: {address: Uint8Array; storageKeys: Uint8Array[]}[]
}

/** A signed transaction as keyd returns it. */
export interface SignedEthTx {
  /** `0x02 ‖ rlp([...fields, y_parity, r, s])`, the bytes eth_sendRawTransaction takes. */
  raw: Uint8Array
  /** keccak256(raw). */
  hash: Uint8Array
}

const hexOf = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/** EIP-55 mixed-case checksum of a 20-byte address. */
export function toChecksumAddress(address: Uint8Array): string {
  const lower = hexOf(address)
  const digest = hexOf(keccak_256(new TextEncoder().encode(lower)))
  let out = '0x'
  for (let i = 0; i < 40; i++) out += Number.parseInt(digest[i] as string, 16) >= 8 ? (lower[i] as string).toUpperCase() : (lower[i] as string)
  return out
}

/** The EIP-55 address of a secp256k1 secret key: keccak256(uncompressed pubkey without 0x04)[12:]. */
export function ethAddressOf(secretKey: Uint8Array): string {
  const pub = secp256k1.getPublicKey(secretKey, false)
  return toChecksumAddress(keccak_256(pub.subarray(1)).subarray(12))
}

/**
 * Parses an address: all-lowercase, all-uppercase or valid EIP-55 (SPEC §2.2); anything else, or a
 * wrong length, is 400 INVALID_ADDRESS.
 */
export function parseEthAddress(text: string, field = 'to'): Uint8Array {
  const invalid = (why: string) => new OsmodaError('INVALID_ADDRESS', `${field}: ${why}`, {details: {field, address: text.slice(0, 100)}, hint: 'pass a 0x-prefixed 20-byte address in lowercase or valid EIP-55 checksum case'})
  const m = /^0x([0-9a-fA-F]*)$/.exec(text)
  if (!m) throw invalid('not a 0x-prefixed hex address')
  const body = m[1] as string
  if (body.length !== 40) throw invalid(`expected 40 hex digits, got ${body.length}`)
  const bytes = Uint8Array.from(Buffer.from(body, 'hex'))
  if (body !== body.toLowerCase() && body !== body.toUpperCase() && toChecksumAddress(bytes) !== text) throw invalid('bad EIP-55 checksum')
  return bytes
}

/** The EIP-2718 payload that is hashed for signing: `0x02 ‖ rlp([chain_id … access_list])`. */
export function eip1559Fields(tx: Eip1559Fields): RlpItem[] {
  const n = bigintToBytes
  return [
    n(tx.chainId),
    n(tx.nonce),
    n(tx.maxPriorityFeePerGas),
    n(tx.maxFeePerGas),
    n(tx.gasLimit),
    tx.to,
    n(tx.value),
    tx.data,
    tx.accessList.map((e) => [e.address, e.storageKeys]),
  ]
}

/** keccak256 of the unsigned type-2 payload. */
export function eip1559SigningHash(tx: Eip1559Fields): Uint8Array {
  return keccak_256(concatBytes([Uint8Array.of(2), rlpEncode(eip1559Fields(tx))]))
}

/** Signs a 32-byte digest: RFC 6979 deterministic, low-s; returns r, s and the recovery bit. */
export function signDigest(digest: Uint8Array, secretKey: Uint8Array): {r: Uint8Array; s: Uint8Array; recovery: number} {
  const sig = secp256k1.sign(digest, secretKey, {prehash: false, lowS: true, format: 'recovered'})
  // 'recovered' is recovery ‖ r ‖ s.
  return {recovery: sig[0] as number, r: sig.slice(1, 33), s: sig.slice(33, 65)}
}

const stripZeros = (bytes: Uint8Array) => {
  let i = 0
  while (i < bytes.length && bytes[i] === 0) i++
  return bytes.subarray(i)
}

/** Signs an EIP-1559 transaction; r and s are RLP integers (leading zeros stripped). */
export function signEip1559(tx: Eip1559Fields, secretKey: Uint8Array): SignedEthTx {
  const {r, s, recovery} = signDigest(eip1559SigningHash(tx), secretKey)
  const raw = concatBytes([Uint8Array.of(2), rlpEncode([...eip1559Fields(tx), bigintToBytes(BigInt(recovery)), stripZeros(r), stripZeros(s)])])
  return {raw, hash: keccak_256(raw)}
}

/** EIP-191 personal_sign: keccak256("\x19Ethereum Signed Message:\n" + len + payload). */
export function personalMessageHash(payload: Uint8Array): Uint8Array {
  const prefix = new TextEncoder().encode(`\x19Ethereum Signed Message:\n${payload.length}`)
  return keccak_256(concatBytes([prefix, payload]))
}

/** A 65-byte `r ‖ s ‖ v` signature (v = 27 + recovery), as personal_sign returns. */
export function signatureRsv(digest: Uint8Array, secretKey: Uint8Array): {signature: Uint8Array; recovery: number} {
  const {r, s, recovery} = signDigest(digest, secretKey)
  return {signature: concatBytes([r, s, Uint8Array.of(27 + recovery)]), recovery}
}

/** ERC-20 `transfer(address,uint256)` call data. */
export function erc20TransferData(recipient: Uint8Array, amount: bigint): Uint8Array {
  const word = (bytes: Uint8Array) => concatBytes([new Uint8Array(32 - bytes.length), bytes])
  return concatBytes([Uint8Array.from([0xa9, 0x05, 0x9c, 0xbb]), word(recipient), word(bigintToBytes(amount))])
}
