import {readFileSync} from 'node:fs'
import {UsageError} from '../errors.js'

const INTEGER_PARAMS = new Set(['chain_id', 'nonce', 'gas_limit', 'decimals', 'compute_unit_limit', 'compute_unit_price_micro_lamports'])
const BOOLEAN_PARAMS = new Set(['create_ata'])

/**
 * Parses repeated `--chain-param k=v` into keyd's `chain_params`: integers for chain_id, nonce,
 * gas_limit, decimals and the Solana compute budget; true/false for create_ata; JSON for
 * access_list; strings otherwise (fees in base units, recent_blockhash, token_program).
 */
export function parseChainParams(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new UsageError(`--chain-param ${JSON.stringify(pair)} is not key=value`, {hint: 'e.g. --chain-param chain_id=1 --chain-param nonce=7'})
    const key = pair.slice(0, eq)
    const value = pair.slice(eq + 1)
    if (key === 'access_list') out[key] = parseJsonText(value, '--chain-param access_list')
    else if (INTEGER_PARAMS.has(key)) {
      if (!/^-?[0-9]{1,16}$/.test(value)) throw new UsageError(`--chain-param ${key} must be an integer, got ${JSON.stringify(value)}`)
      out[key] = Number(value)
    } else if (BOOLEAN_PARAMS.has(key)) {
      if (value !== 'true' && value !== 'false') throw new UsageError(`--chain-param ${key} must be true or false, got ${JSON.stringify(value)}`)
      out[key] = value === 'true'
    } else out[key] = value
  }
  return out
}

/** Reads a JSON file given on the command line. */
export function readJsonFile(path: string, what: string): unknown {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new UsageError(`cannot read ${what} ${path}: ${(error as Error).message}`)
  }
  return parseJsonText(text, `${what} ${path}`)
}

function parseJsonText(text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new UsageError(`${what} is not valid JSON: ${(error as Error).message}`)
  }
}
