import {OsmodaError, UsageError} from '../../lib/errors.js'
import {base58Decode} from './base58.js'
import {concatBytes} from './rlp.js'

/** The System program (32 zero bytes). */
export const SYSTEM_PROGRAM = new Uint8Array(32)
/** `ComputeBudget111111111111111111111111111111`. */
export const COMPUTE_BUDGET_PROGRAM = base58Decode('ComputeBudget111111111111111111111111111111') as Uint8Array
/** Solana's packet limit for a whole transaction. */
export const MAX_TX_BYTES = 1232

/** Parses a base58 Solana address (32 bytes) or throws 400 INVALID_ADDRESS. */
export function parseSolAddress(text: string, field = 'to'): Uint8Array {
  const bytes = base58Decode(text)
  if (!bytes || bytes.length !== 32) {
    throw new OsmodaError('INVALID_ADDRESS', `${field}: not a base58 Solana address (32 bytes)`, {details: {field, address: text.slice(0, 100)}, hint: 'pass the base58 public key, e.g. from wallet_list'})
  }
  return bytes
}

/** Solana's compact-u16 (1–3 bytes, 7 bits per byte, little-endian). */
export function compactU16(n: number): Uint8Array {
  const out: number[] = []
  let rest = n
  for (;;) {
    const low = rest & 0x7f
    rest >>= 7
    if (rest === 0) {
      out.push(low)
      return Uint8Array.from(out)
    }
    out.push(low | 0x80)
  }
}

const u32le = (n: number) => {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n, true)
  return b
}
const u64le = (n: bigint) => {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, n, true)
  return b
}

/** A native SOL transfer, optionally preceded by ComputeBudget instructions. */
export interface SolTransfer {
  from: Uint8Array
  to: Uint8Array
  lamports: bigint
  recentBlockhash: Uint8Array
  computeUnitLimit?: number
  computeUnitPriceMicroLamports?: bigint
}

/**
 * The legacy message: header [1 signer, 0 read-only signers, N read-only programs], accounts
 * [from (signer, writable), to (writable), System, ComputeBudget?], the blockhash, then
 * SetComputeUnitLimit / SetComputeUnitPrice (when given) and System Transfer.
 */
export function solTransferMessage(t: SolTransfer): Uint8Array {
  if (t.lamports >= 1n << 64n) throw new UsageError('value overflows u64 lamports', {details: ['value: overflows u64']})
  const budget = t.computeUnitLimit !== undefined || t.computeUnitPriceMicroLamports !== undefined
  const accounts = budget ? [t.from, t.to, SYSTEM_PROGRAM, COMPUTE_BUDGET_PROGRAM] : [t.from, t.to, SYSTEM_PROGRAM]
  const instruction = (program: number, accountIdx: number[], data: Uint8Array) => concatBytes([Uint8Array.of(program), compactU16(accountIdx.length), Uint8Array.from(accountIdx), compactU16(data.length), data])
  const instructions: Uint8Array[] = []
  if (t.computeUnitLimit !== undefined) instructions.push(instruction(3, [], concatBytes([Uint8Array.of(2), u32le(t.computeUnitLimit)])))
  if (t.computeUnitPriceMicroLamports !== undefined) instructions.push(instruction(3, [], concatBytes([Uint8Array.of(3), u64le(t.computeUnitPriceMicroLamports)])))
  instructions.push(instruction(2, [0, 1], concatBytes([u32le(2), u64le(t.lamports)])))
  return concatBytes([
    Uint8Array.of(1, 0, accounts.length - 2),
    compactU16(accounts.length),
    ...accounts,
    t.recentBlockhash,
    compactU16(instructions.length),
    ...instructions,
  ])
}

/** The wire transaction: compact-u16 signature count, the signatures, the message. */
export function solTransaction(signature: Uint8Array, message: Uint8Array): Uint8Array {
  const tx = concatBytes([compactU16(1), signature, message])
  if (tx.length > MAX_TX_BYTES) throw new UsageError(`transaction is ${tx.length} bytes, over Solana's ${MAX_TX_BYTES}`, {details: ['transaction: too large']})
  return tx
}

/** SPEC §2.2: 5000 lamports per signature plus ceil(price × limit / 10^6). */
export function solFee(signatures: number, computeUnitLimit: number, priceMicroLamports: bigint): bigint {
  const priority = priceMicroLamports * BigInt(computeUnitLimit)
  return 5000n * BigInt(signatures) + (priority + 999_999n) / 1_000_000n
}

const SIGNING_DOMAIN = Uint8Array.from([0xff, ...new TextEncoder().encode('solana offchain')])
/** Preamble of a version-0 off-chain message with one signer: 16 + 1 + 32 + 1 + 1 + 32 + 2 bytes. */
const OFFCHAIN_HEADER = 85

/**
 * The off-chain message envelope (Solana's off-chain message signing proposal, version 0): signing
 * domain `\xffsolana offchain`, version 0, a zero application domain, the message format
 * (0 printable ASCII, 1 UTF-8 that fits one packet, 2 longer UTF-8), one signer, u16 LE length.
 */
export function offchainMessage(signer: Uint8Array, message: Uint8Array): Uint8Array {
  if (message.length === 0) throw new UsageError('an off-chain message cannot be empty', {details: ['payload: must not be empty']})
  let text: string
  try {
    text = new TextDecoder('utf-8', {fatal: true}).decode(message)
  } catch {
    throw new UsageError('solana_offchain signs UTF-8 text; use raw_digest for binary payloads', {details: ['payload: not valid UTF-8']})
  }
  const ascii = /^[\x20-\x7e]*$/.test(text)
  const fitsPacket = OFFCHAIN_HEADER + message.length <= MAX_TX_BYTES
  if (message.length > 65_535 - OFFCHAIN_HEADER) throw new UsageError('off-chain message too long', {details: ['payload: too long']})
  const format = ascii && fitsPacket ? 0 : fitsPacket ? 1 : 2
  const length = new Uint8Array(2)
  new DataView(length.buffer).setUint16(0, message.length, true)
  return concatBytes([SIGNING_DOMAIN, Uint8Array.of(0), new Uint8Array(32), Uint8Array.of(format, 1), signer, length, message])
}
