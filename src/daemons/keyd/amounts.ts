import {UsageError} from '../../lib/errors.js'

const UINT256_MAX = 2n ** 256n - 1n

/** Parses base units (already shape-checked) and refuses values above uint256. */
export function parseBaseUnits(value: string, field: string): bigint {
  const n = BigInt(value)
  if (n > UINT256_MAX) throw new UsageError(`${field}: ${value} overflows uint256`, {details: [`${field}: overflows uint256`]})
  return n
}

/** Converts a whole-unit decimal amount ("1.5") to base units with `decimals` digits. */
export function wholeToBaseUnits(amount: string, decimals: number, field = 'amount'): bigint {
  const [whole = '0', fraction = ''] = amount.split('.')
  if (fraction.length > decimals) {
    throw new UsageError(`${field}: ${fraction.length} fractional digits but the asset has ${decimals} decimals`, {details: [`${field}: more fractional digits than decimals (${decimals})`]})
  }
  const n = BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, '0') || '0')
  return parseBaseUnits(n.toString(), field)
}
