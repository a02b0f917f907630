import {createHash} from 'node:crypto'
import {ed25519} from '@noble/curves/ed25519.js'
import {OsmodaError, UsageError} from '../../lib/errors.js'
import {base58Decode} from './base58.js'
import {concatBytes} from './rlp.js'
import {compileLegacyMessage, computeBudgetInstructions, SYSTEM_PROGRAM, u64le, type ComputeBudget, type Instruction} from './solana.js'

/**
 * SPL token transfers between associated token accounts. keyd is offline, so it cannot look an
 * account up: it derives both ATAs (the program-derived addresses every wallet and explorer
 * agree on) and, when asked, prepends the ATA program's CreateIdempotent so a recipient without an
 * account gets one (a no-op when it exists).
 */

const id = (text: string) => base58Decode(text) as Uint8Array

/** The two token programs whose accounts keyd derives, by their base58 program ids. */
export const TOKEN_PROGRAMS = {
  TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA: {name: 'spl-token', accountBytes: 165},
  TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb: {name: 'token-2022', accountBytes: 170},
} as const
export type TokenProgramId = keyof typeof TOKEN_PROGRAMS
export const DEFAULT_TOKEN_PROGRAM: TokenProgramId = 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA'
export const ASSOCIATED_TOKEN_PROGRAM = id('ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA1knL')

const PDA_MARKER = new TextEncoder().encode('ProgramDerivedAddress')

/** True when 32 bytes decode as an Ed25519 point (a PDA must not, so no private key can sign for it). */
function onCurve(bytes: Uint8Array): boolean {
  try {
    ed25519.Point.fromBytes(bytes)
    return true
  } catch {
    return false
  }
}

/** Solana's find_program_address: the first bump from 255 down whose hash is off the curve. */
export function findProgramAddress(seeds: Uint8Array[], programId: Uint8Array): {address: Uint8Array; bump: number} {
  for (let bump = 255; bump >= 0; bump--) {
    const address = createHash('sha256')
      .update(concatBytes([...seeds, Uint8Array.of(bump), programId, PDA_MARKER]))
      .digest()
    if (!onCurve(address)) return {address: new Uint8Array(address), bump}
  }
  throw new OsmodaError('INTERNAL', 'no program-derived address exists for these seeds')
}

/** The associated token account of `owner` for `mint` under `tokenProgram`. */
export function associatedTokenAddress(owner: Uint8Array, mint: Uint8Array, tokenProgram: Uint8Array): Uint8Array {
  return findProgramAddress([owner, tokenProgram, mint], ASSOCIATED_TOKEN_PROGRAM).address
}

/** Rent-exempt minimum for an account of `bytes` data: (bytes + 128) × 3480 lamports/byte-year × 2 years. */
export function rentExemptLamports(bytes: number): bigint {
  return BigInt(bytes + 128) * 3480n * 2n
}

/** Accepts one of the two token program ids, or refuses with the list. */
export function parseTokenProgram(text: string | undefined): TokenProgramId {
  const program = text ?? DEFAULT_TOKEN_PROGRAM
  if (!(program in TOKEN_PROGRAMS)) {
    throw new UsageError(`token_program must be ${Object.keys(TOKEN_PROGRAMS).join(' or ')}`, {details: ['chain_params.token_program: unknown token program']})
  }
  return program as TokenProgramId
}

export interface SplTransfer extends ComputeBudget {
  owner: Uint8Array
  mint: Uint8Array
  recipient: Uint8Array
  amount: bigint
  decimals: number
  tokenProgram: TokenProgramId
  createAta: boolean
  recentBlockhash: Uint8Array
}

/**
 * ComputeBudget (when given), CreateIdempotent for the recipient's ATA (when `createAta`), then
 * TransferChecked (instruction 12: u64 amount, u8 decimals) from the owner's ATA to the
 * recipient's, signed by the owner, who also pays the fee and any rent.
 */
export function splTransferMessage(t: SplTransfer): {message: Uint8Array; source: Uint8Array; destination: Uint8Array; rentLamports: bigint} {
  const program = id(t.tokenProgram)
  const source = associatedTokenAddress(t.owner, t.mint, program)
  const destination = associatedTokenAddress(t.recipient, t.mint, program)
  const instructions: Instruction[] = [...computeBudgetInstructions(t)]
  if (t.createAta) {
    instructions.push({
      programId: ASSOCIATED_TOKEN_PROGRAM,
      accounts: [
        {pubkey: t.owner, signer: true, writable: true},
        {pubkey: destination, signer: false, writable: true},
        {pubkey: t.recipient, signer: false, writable: false},
        {pubkey: t.mint, signer: false, writable: false},
        {pubkey: SYSTEM_PROGRAM, signer: false, writable: false},
        {pubkey: program, signer: false, writable: false},
      ],
      data: Uint8Array.of(1),
    })
  }
  instructions.push({
    programId: program,
    accounts: [
      {pubkey: source, signer: false, writable: true},
      {pubkey: t.mint, signer: false, writable: false},
      {pubkey: destination, signer: false, writable: true},
      {pubkey: t.owner, signer: true, writable: false},
    ],
    data: concatBytes([Uint8Array.of(12), u64le(t.amount), Uint8Array.of(t.decimals)]),
  })
  return {
    message: compileLegacyMessage(t.owner, instructions, t.recentBlockhash),
    source,
    destination,
    rentLamports: t.createAta ? rentExemptLamports(TOKEN_PROGRAMS[t.tokenProgram].accountBytes) : 0n,
  }
}
