import {keccak_256} from '@noble/hashes/sha3.js'
import {z} from 'zod'
import {UsageError} from '../../lib/errors.js'
import {parseEthAddress} from './eth.js'
import {bigintToBytes, concatBytes} from './rlp.js'

const Name = z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/, 'expected an identifier')
const FieldType = z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]{0,63}(\[[0-9]{0,4}\])*$/, 'expected a Solidity type like uint256, address, Mail or Person[]')

/** EIP-712 typed data `{types, primaryType, domain, message}` (bounded: 64 types × 64 fields). */
export const TypedData = z.strictObject({
  types: z.record(Name, z.array(z.strictObject({name: Name, type: FieldType})).max(64)).refine((t) => Object.keys(t).length <= 64, 'at most 64 types'),
  primaryType: Name,
  domain: z.record(z.string(), z.unknown()),
  message: z.record(z.string(), z.unknown()),
})
/** Validated typed data. */
export type TypedData = z.output<typeof TypedData>

type Fields = {name: string; type: string}[]
const DOMAIN_FIELDS: Fields = [
  {name: 'name', type: 'string'},
  {name: 'version', type: 'string'},
  {name: 'chainId', type: 'uint256'},
  {name: 'verifyingContract', type: 'address'},
  {name: 'salt', type: 'bytes32'},
]
const MAX_DEPTH = 16
const MAX_ARRAY = 1024

const bad = (path: string, why: string) => new UsageError(`typed_data ${path}: ${why}`, {details: [`typed_data.${path}: ${why}`]})

/** The EIP-712 signing digest: keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(message)). */
export function typedDataDigest(data: TypedData): Uint8Array {
  const types: Record<string, Fields> = {...data.types}
  // Like common wallets, derive EIP712Domain from the domain's keys when it is not declared.
  types.EIP712Domain ??= DOMAIN_FIELDS.filter((f) => data.domain[f.name] !== undefined)
  for (const [name, fields] of Object.entries(types)) {
    const seen = new Set<string>()
    for (const f of fields) {
      if (seen.has(f.name)) throw bad(`types.${name}`, `duplicate field ${f.name}`)
      seen.add(f.name)
      const base = f.type.replace(/(\[[0-9]*\])+$/, '')
      if (!isAtomic(base) && !types[base]) throw bad(`types.${name}.${f.name}`, `unknown type ${f.type}`)
    }
  }
  if (!types[data.primaryType]) throw bad('primaryType', `${data.primaryType} is not declared in types`)
  const domainSeparator = hashStruct(types, 'EIP712Domain', data.domain, 'domain', 0)
  const parts = [Uint8Array.of(0x19, 0x01), domainSeparator]
  if (data.primaryType !== 'EIP712Domain') parts.push(hashStruct(types, data.primaryType, data.message, 'message', 0))
  return keccak_256(concatBytes(parts))
}

function isAtomic(type: string): boolean {
  if (['address', 'bool', 'string', 'bytes'].includes(type)) return true
  const bytesN = /^bytes([0-9]{1,2})$/.exec(type)
  if (bytesN) return Number(bytesN[1]) >= 1 && Number(bytesN[1]) <= 32
  const intN = /^u?int([0-9]{1,3})$/.exec(type)
  return intN !== null && Number(intN[1]) % 8 === 0 && Number(intN[1]) >= 8 && Number(intN[1]) <= 256
}

function dependencies(types: Record<string, Fields>, name: string, found: Set<string>): Set<string> {
  if (found.has(name) || !types[name]) return found
  found.add(name)
  for (const f of types[name]) dependencies(types, f.type.replace(/(\[[0-9]*\])+$/, ''), found)
  return found
}

/** `Primary(type name,…)` followed by its referenced struct types in alphabetical order. */
export function encodeType(types: Record<string, Fields>, name: string): string {
  const deps = [...dependencies(types, name, new Set())].filter((d) => d !== name).sort()
  return [name, ...deps].map((t) => `${t}(${(types[t] as Fields).map((f) => `${f.type} ${f.name}`).join(',')})`).join('')
}

function hashStruct(types: Record<string, Fields>, name: string, value: unknown, path: string, depth: number): Uint8Array {
  if (depth > MAX_DEPTH) throw bad(path, `nested deeper than ${MAX_DEPTH}`)
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad(path, `expected an object for ${name}`)
  const fields = types[name] as Fields
  const record = value as Record<string, unknown>
  for (const key of Object.keys(record)) if (!fields.some((f) => f.name === key)) throw bad(`${path}.${key}`, `not a field of ${name}`)
  const encoded = fields.map((f) => encodeValue(types, f.type, record[f.name], `${path}.${f.name}`, depth))
  return keccak_256(concatBytes([keccak_256(new TextEncoder().encode(encodeType(types, name))), ...encoded]))
}

const word = (bytes: Uint8Array) => concatBytes([new Uint8Array(32 - bytes.length), bytes])

function toBigint(value: unknown, path: string): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value)
  if (typeof value === 'string' && /^-?[0-9]{1,78}$/.test(value)) return BigInt(value)
  if (typeof value === 'string' && /^0x[0-9a-fA-F]{1,64}$/.test(value)) return BigInt(value)
  throw bad(path, 'expected an integer (safe JSON number, decimal or 0x-hex string)')
}

function hexBytes(value: unknown, path: string): Uint8Array {
  if (typeof value !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(value)) throw bad(path, 'expected 0x-hex bytes')
  return Uint8Array.from(Buffer.from(value.slice(2), 'hex'))
}

function encodeValue(types: Record<string, Fields>, type: string, value: unknown, path: string, depth: number): Uint8Array {
  if (value === undefined) throw bad(path, 'missing')
  const array = /^(.*)\[([0-9]*)\]$/.exec(type)
  if (array) {
    if (!Array.isArray(value)) throw bad(path, `expected an array for ${type}`)
    if (value.length > MAX_ARRAY) throw bad(path, `more than ${MAX_ARRAY} items`)
    if (array[2] !== '' && value.length !== Number(array[2])) throw bad(path, `expected exactly ${array[2]} items`)
    return keccak_256(concatBytes(value.map((v, i) => encodeValue(types, array[1] as string, v, `${path}[${i}]`, depth + 1))))
  }
  if (types[type]) return hashStruct(types, type, value, path, depth + 1)
  if (type === 'string') {
    if (typeof value !== 'string') throw bad(path, 'expected a string')
    return keccak_256(new TextEncoder().encode(value))
  }
  if (type === 'bytes') return keccak_256(hexBytes(value, path))
  if (type === 'bool') {
    if (typeof value !== 'boolean') throw bad(path, 'expected true or false')
    return word(Uint8Array.of(value ? 1 : 0))
  }
  if (type === 'address') {
    if (typeof value !== 'string') throw bad(path, 'expected an address')
    return word(parseEthAddress(value, `typed_data.${path}`))
  }
  const bytesN = /^bytes([0-9]+)$/.exec(type)
  if (bytesN) {
    const b = hexBytes(value, path)
    if (b.length !== Number(bytesN[1])) throw bad(path, `expected ${bytesN[1]} bytes`)
    return concatBytes([b, new Uint8Array(32 - b.length)])
  }
  const intN = /^(u?)int([0-9]+)$/.exec(type) as RegExpExecArray
  const bits = BigInt(intN[2] as string)
  const n = toBigint(value, path)
  if (intN[1] === 'u') {
    if (n < 0n || n >= 1n << bits) throw bad(path, `out of range for ${type}`)
    return word(bigintToBytes(n))
  }
  if (n < -(1n << (bits - 1n)) || n >= 1n << (bits - 1n)) throw bad(path, `out of range for ${type}`)
  return word(bigintToBytes(n < 0n ? (1n << 256n) + n : n))
}
