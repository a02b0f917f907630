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

/** One account an instruction touches. */
export interface AccountMeta {
  pubkey: Uint8Array
  signer: boolean
  writable: boolean
}

/** An instruction before compilation: its program, accounts in the program's order, and data. */
export interface Instruction {
  programId: Uint8Array
  accounts: AccountMeta[]
  data: Uint8Array
}

/** The ComputeBudget fields every Solana build accepts. */
export interface ComputeBudget {
  computeUnitLimit?: number
  computeUnitPriceMicroLamports?: bigint
}

export const u32le = (n: number) => {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n, true)
  return b
}
export const u64le = (n: bigint) => {
  if (n < 0n || n >= 1n << 64n) throw new UsageError('value overflows u64', {details: ['value: overflows u64']})
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, n, true)
  return b
}

/** SetComputeUnitLimit / SetComputeUnitPrice, when given (they go first in a transaction). */
export function computeBudgetInstructions(budget: ComputeBudget): Instruction[] {
  const out: Instruction[] = []
  if (budget.computeUnitLimit !== undefined) out.push({programId: COMPUTE_BUDGET_PROGRAM, accounts: [], data: concatBytes([Uint8Array.of(2), u32le(budget.computeUnitLimit)])})
  if (budget.computeUnitPriceMicroLamports !== undefined) out.push({programId: COMPUTE_BUDGET_PROGRAM, accounts: [], data: concatBytes([Uint8Array.of(3), u64le(budget.computeUnitPriceMicroLamports)])})
  return out
}

/**
 * Compiles a legacy message. Accounts are merged by key (signer and writable flags OR-ed) and laid
 * out in the four groups the header describes: writable signers (the fee payer first), read-only
 * signers, writable non-signers, read-only non-signers; inside a group, first appearance wins,
 * instruction accounts before program ids.
 */
export function compileLegacyMessage(feePayer: Uint8Array, instructions: Instruction[], recentBlockhash: Uint8Array): Uint8Array {
  const metas = new Map<string, AccountMeta>()
  const add = (m: AccountMeta) => {
    const key = Buffer.from(m.pubkey).toString('hex')
    const seen = metas.get(key)
    if (seen) {
      seen.signer ||= m.signer
      seen.writable ||= m.writable
    } else metas.set(key, {...m})
  }
  add({pubkey: feePayer, signer: true, writable: true})
  for (const ix of instructions) for (const a of ix.accounts) add(a)
  for (const ix of instructions) add({pubkey: ix.programId, signer: false, writable: false})
  const all = [...metas.values()]
  const group = (signer: boolean, writable: boolean) => all.filter((m) => m.signer === signer && m.writable === writable)
  const ordered = [...group(true, true), ...group(true, false), ...group(false, true), ...group(false, false)]
  const index = new Map(ordered.map((m, i) => [Buffer.from(m.pubkey).toString('hex'), i]))
  const at = (key: Uint8Array) => index.get(Buffer.from(key).toString('hex')) as number
  const compiled = instructions.map((ix) =>
    concatBytes([Uint8Array.of(at(ix.programId)), compactU16(ix.accounts.length), Uint8Array.from(ix.accounts.map((a) => at(a.pubkey))), compactU16(ix.data.length), ix.data]),
  )
  const signers = group(true, true).length + group(true, false).length
  return concatBytes([
    Uint8Array.of(signers, group(true, false).length, group(false, false).length),
    compactU16(ordered.length),
    ...ordered.map((m) => m.pubkey),
    recentBlockhash,
    compactU16(compiled.length),
    ...compiled,
  ])
}

/** A native SOL transfer, optionally preceded by ComputeBudget instructions. */
export interface SolTransfer extends ComputeBudget {
  from: Uint8Array
  to: Uint8Array
  lamports: bigint
  recentBlockhash: Uint8Array
}

/** ComputeBudget instructions (when given), then System Transfer (instruction 2, u64 lamports). */
export function solTransferMessage(t: SolTransfer): Uint8Array {
  if (t.lamports >= 1n << 64n) throw new UsageError('value overflows u64 lamports', {details: ['value: overflows u64']})
  const transfer: Instruction = {
    programId: SYSTEM_PROGRAM,
    accounts: [{pubkey: t.from, signer: true, writable: true}, {pubkey: t.to, signer: false, writable: true}],
    data: concatBytes([u32le(2), u64le(t.lamports)]),
  }
  return compileLegacyMessage(t.from, [...computeBudgetInstructions(t), transfer], t.recentBlockhash)
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
