import {OsmodaError} from '../errors.js'

// A cycle would otherwise recurse until the stack blows; no real payload nests this deep.
const MAX_DEPTH = 100

/**
 * Serialises a JSON value as RFC 8785 (JCS) canonical JSON: object keys sorted by UTF-16 code
 * units, ECMAScript number formatting, no whitespace. Throws VALIDATION_FAILED for values that
 * have no JSON form (non-finite numbers, bigint, functions, symbols, undefined outside an object
 * member, lone surrogates) instead of silently changing them, because the text is hashed.
 */
export function canonicalJson(value: unknown): string {
  return write(value, [], 0)
}

// The path is kept as a segment stack and only formatted on failure, so the hot path allocates nothing.
type Path = (string | number)[]

function fail(segments: Path, what: string): never {
  const path = '$' + segments.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('')
  throw new OsmodaError('VALIDATION_FAILED', `cannot canonicalise ${path}: ${what}`, {
    details: [`${path}: ${what}`],
    hint: 'ledger payloads hold only strings, finite numbers, booleans, null, arrays and plain objects',
  })
}

function writeString(value: string, path: Path): string {
  // RFC 8785 requires I-JSON: a lone surrogate has no UTF-8 form and would hash ambiguously.
  if (!isWellFormed(value)) fail(path, 'string contains a lone UTF-16 surrogate')
  return JSON.stringify(value)
}

function write(value: unknown, path: Path, depth: number): string {
  switch (typeof value) {
    case 'string':
      return writeString(value, path)
    case 'number':
      if (!Number.isFinite(value)) fail(path, `${String(value)} is not a finite number`)
      // Number#toString is the ECMAScript algorithm RFC 8785 §3.2.2.3 prescribes (and -0 gives "0").
      return String(value)
    case 'boolean':
      return value ? 'true' : 'false'
    case 'object':
      if (value === null) return 'null'
      if (depth >= MAX_DEPTH) fail(path, `nested deeper than ${MAX_DEPTH} levels (or cyclic)`)
      return Array.isArray(value) ? writeArray(value, path, depth) : writeObject(value as object, path, depth)
    case 'undefined':
      return fail(path, 'undefined has no JSON form')
    default:
      return fail(path, `a ${typeof value} has no JSON form`)
  }
}

function writeArray(items: readonly unknown[], path: Path, depth: number): string {
  let out = '['
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += ','
    // JSON.stringify would turn undefined into null here; refusing keeps the caller honest.
    path.push(i)
    out += write(items[i], path, depth + 1)
    path.pop()
  }
  return out + ']'
}

function writeObject(obj: object, path: Path, depth: number): string {
  const toJSON = (obj as {toJSON?: unknown}).toJSON
  // Honour toJSON like JSON.stringify does (a Date becomes its ISO string).
  if (typeof toJSON === 'function') return write(toJSON.call(obj), path, depth + 1)
  const proto = Object.getPrototypeOf(obj) as unknown
  if (proto !== Object.prototype && proto !== null) fail(path, `a ${obj.constructor?.name ?? 'non-plain'} object has no JSON form`)
  const record = obj as Record<string, unknown>
  // Default sort compares UTF-16 code units, exactly what RFC 8785 §3.2.3 asks for.
  const keys = Object.keys(record).sort()
  let out = '{'
  let first = true
  for (const key of keys) {
    const member = record[key]
    if (member === undefined) continue
    if (!first) out += ','
    first = false
    path.push(key)
    out += writeString(key, path) + ':' + write(member, path, depth + 1)
    path.pop()
  }
  return out + '}'
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

function isWellFormed(value: string): boolean {
  const native = (value as {isWellFormed?: () => boolean}).isWellFormed
  return native ? native.call(value) : !LONE_SURROGATE.test(value)
}

/**
 * Whether `text` is exactly `canonicalJson(JSON.parse(text))`, decided in one pass over the text
 * without building values: verification runs this on every row, where parse-and-reserialise is the
 * slowest step. Agreement with the definition is checked by a differential test.
 */
export function isCanonicalJson(text: string): boolean {
  return scanValue(text, 0, 0) === text.length
}

// Each scanner returns the index just past what it consumed, or -1 when the text is not canonical.
function scanValue(s: string, i: number, depth: number): number {
  const c = s.charCodeAt(i)
  if (c === 0x7b /* { */) return depth >= MAX_DEPTH ? -1 : scanObject(s, i + 1, depth)
  if (c === 0x5b /* [ */) return depth >= MAX_DEPTH ? -1 : scanArray(s, i + 1, depth)
  if (c === 0x22 /* " */) return scanString(s, i)
  if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) return scanNumber(s, i)
  if (s.startsWith('true', i)) return i + 4
  if (s.startsWith('false', i)) return i + 5
  if (s.startsWith('null', i)) return i + 4
  return -1
}

function scanObject(s: string, i: number, depth: number): number {
  if (s.charCodeAt(i) === 0x7d /* } */) return i + 1
  let previous: string | null = null
  for (;;) {
    if (s.charCodeAt(i) !== 0x22) return -1
    const end = scanString(s, i)
    if (end < 0) return -1
    const raw = s.slice(i + 1, end - 1)
    const key = raw.includes('\\') ? (JSON.parse(s.slice(i, end)) as string) : raw
    // Keys must ascend strictly by UTF-16 code units (JS `<`); equal means a duplicate.
    if (previous !== null && !(previous < key)) return -1
    previous = key
    if (s.charCodeAt(end) !== 0x3a /* : */) return -1
    i = scanValue(s, end + 1, depth + 1)
    if (i < 0) return -1
    const next = s.charCodeAt(i)
    if (next === 0x7d) return i + 1
    if (next !== 0x2c /* , */) return -1
    i++
  }
}

function scanArray(s: string, i: number, depth: number): number {
  if (s.charCodeAt(i) === 0x5d /* ] */) return i + 1
  for (;;) {
    i = scanValue(s, i, depth + 1)
    if (i < 0) return -1
    const next = s.charCodeAt(i)
    if (next === 0x5d) return i + 1
    if (next !== 0x2c) return -1
    i++
  }
}

// Control characters JSON.stringify writes as \u00xx (lowercase), i.e. all but \b \t \n \f \r.
const SHORT_ESCAPES = '"\\bfnrt'

function scanString(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j)
    if (c === 0x22) return j + 1
    if (c < 0x20) return -1
    if (c === 0x5c /* \ */) {
      const e = s[j + 1] ?? ''
      if (e !== '' && SHORT_ESCAPES.includes(e)) {
        j++
        continue
      }
      // The only other canonical escape: \u00xx for a control character without a short form.
      if (e !== 'u' || !/^00[01][0-9a-f]$/.test(s.slice(j + 2, j + 6))) return -1
      const code = parseInt(s.slice(j + 4, j + 6), 16)
      if (code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d) return -1
      j += 5
      continue
    }
    if (c >= 0xd800 && c <= 0xdbff) {
      const low = s.charCodeAt(j + 1)
      if (!(low >= 0xdc00 && low <= 0xdfff)) return -1
      j++
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return -1
    }
  }
  return -1
}

function skipDigits(s: string, j: number): number {
  while (j < s.length && s.charCodeAt(j) >= 0x30 && s.charCodeAt(j) <= 0x39) j++
  return j
}

// JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
function scanNumber(s: string, i: number): number {
  let j = s.charCodeAt(i) === 0x2d ? i + 1 : i
  const first = s.charCodeAt(j)
  if (first === 0x30) j++
  else if (first >= 0x31 && first <= 0x39) j = skipDigits(s, j + 1)
  else return -1
  const integerEnd = j
  if (s.charCodeAt(j) === 0x2e /* . */) {
    const fractionEnd = skipDigits(s, j + 1)
    if (fractionEnd === j + 1) return -1
    j = fractionEnd
  }
  const e = s.charCodeAt(j)
  if (e === 0x65 || e === 0x45) {
    const sign = s.charCodeAt(j + 1)
    const digitsStart = sign === 0x2b || sign === 0x2d ? j + 2 : j + 1
    const exponentEnd = skipDigits(s, digitsStart)
    if (exponentEnd === digitsStart) return -1
    j = exponentEnd
  }
  // Up to 15 plain digits is an exact integer that ECMAScript prints unchanged: skip the round trip.
  if (j === integerEnd && s.charCodeAt(i) !== 0x2d && j - i <= 15) return j
  const token = s.slice(i, j)
  return String(Number(token)) === token ? j : -1
}
