import {describe, expect, it} from 'vitest'
import {OsmodaError} from '../errors.js'
import {canonicalJson, isCanonicalJson} from './canonical-json.js'

// RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
const RFC8785_NUMBERS: [string, string][] = [
  ['0000000000000000', '0'],
  ['8000000000000000', '0'],
  ['0000000000000001', '5e-324'],
  ['8000000000000001', '-5e-324'],
  ['7fefffffffffffff', '1.7976931348623157e+308'],
  ['ffefffffffffffff', '-1.7976931348623157e+308'],
  ['4340000000000000', '9007199254740992'],
  ['c340000000000000', '-9007199254740992'],
  ['4430000000000000', '295147905179352830000'],
  ['44b52d02c7e14af5', '9.999999999999997e+22'],
  ['44b52d02c7e14af6', '1e+23'],
  ['44b52d02c7e14af7', '1.0000000000000001e+23'],
  ['444b1ae4d6e2ef4e', '999999999999999700000'],
  ['444b1ae4d6e2ef4f', '999999999999999900000'],
  ['444b1ae4d6e2ef50', '1e+21'],
  ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
  ['3eb0c6f7a0b5ed8d', '0.000001'],
  ['41b3de4355555553', '333333333.3333332'],
  ['41b3de4355555554', '333333333.33333325'],
  ['41b3de4355555555', '333333333.3333333'],
  ['41b3de4355555556', '333333333.3333334'],
  ['41b3de4355555557', '333333333.33333343'],
  ['becbf647612f3696', '-0.0000033333333333333333'],
  ['43143ff3c1cb0959', '1424953923781206.2'],
]

const fromBits = (hex: string): number => Buffer.from(hex, 'hex').readDoubleBE(0)

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return error instanceof OsmodaError ? error.code : 'not an OsmodaError'
  }
  return undefined
}

describe('canonicalJson', () => {
  it.each(RFC8785_NUMBERS)('serialises the IEEE 754 value %s as %s (RFC 8785 Appendix B)', (bits, want) => {
    // Given a double built from its exact bit pattern
    const value = fromBits(bits)
    // When it is canonicalised Then the text is the ECMAScript form the RFC lists
    expect(canonicalJson(value)).toBe(want)
    expect(canonicalJson([value])).toBe(`[${want}]`)
  })

  it('reproduces the RFC 8785 §3.2.2 example', () => {
    // Given the RFC's input text, with whitespace, exotic escapes and non-canonical numbers
    const input = String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`
    // When parsed and canonicalised
    const out = canonicalJson(JSON.parse(input))
    // Then keys are sorted, numbers and string escapes are canonical
    expect(out).toBe(String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`)
  })

  it('sorts keys by UTF-16 code units as in the RFC 8785 §3.2.3 example', () => {
    // Given the RFC's keys, including one outside the BMP (a surrogate pair sorts below U+FB33)
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    }
    // When canonicalised
    const out = canonicalJson(input)
    // Then the order is \r, 1, U+0080, ö, €, 😀, U+FB33 (the RFC's expected order)
    expect(out).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    )
  })

  it('writes no whitespace and drops object members whose value is undefined', () => {
    // Given nested data with an undefined member
    const value = {b: [1, {d: null, c: 'x'}], a: undefined, e: {}}
    // When canonicalised Then the undefined member is gone, like JSON.stringify does
    expect(canonicalJson(value)).toBe('{"b":[1,{"c":"x","d":null}],"e":{}}')
  })

  it.each([
    ['NaN', {n: NaN}],
    ['Infinity', [Infinity]],
    ['-Infinity', -Infinity],
    ['undefined in an array', [1, undefined]],
    ['top-level undefined', undefined],
    ['bigint', {n: 10n}],
    ['function', {f: () => 1}],
    ['symbol', {s: Symbol('x')}],
    ['lone surrogate', {s: 'a\ud800b'}],
    ['lone surrogate key', {['\udc00']: 1}],
    ['Map', {m: new Map([[1, 2]])}],
  ])('refuses %s with VALIDATION_FAILED', (_name, value) => {
    // When a value without a faithful JSON form is canonicalised Then it is refused, not altered
    expect(codeOf(() => canonicalJson(value))).toBe('VALIDATION_FAILED')
  })

  it('names the offending path and refuses cycles', () => {
    // Given a cyclic object and a nested NaN
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    // When canonicalised Then both are refused and the message points at the member
    expect(() => canonicalJson({a: [0, {b: NaN}]})).toThrow('$.a[1].b')
    expect(codeOf(() => canonicalJson(cyclic))).toBe('VALIDATION_FAILED')
  })

  it('serialises a Date through toJSON like JSON.stringify', () => {
    expect(canonicalJson({at: new Date(Date.UTC(2026, 10, 25, 21, 30, 0, 123))})).toBe('{"at":"2026-11-25T21:30:00.123Z"}')
  })
})

describe('isCanonicalJson', () => {
  const reference = (text: string): boolean => {
    try {
      return canonicalJson(JSON.parse(text)) === text
    } catch {
      return false
    }
  }

  it.each([
    ['{"a":1,"b":[true,false,null],"c":{"d":"e"}}', true],
    ['{"b":1,"a":2}', false],
    ['{"a":1,"a":1}', false],
    ['{"a": 1}', false],
    ['{"a":1.0}', false],
    ['{"a":-0}', false],
    ['{"a":1e21}', false],
    ['{"a":1e+21}', true],
    ['{"a":"\\u00e9"}', false],
    ['{"a":"é"}', true],
    ['{"a":"\\/"}', false],
    ['{"a":"\\u000a"}', false],
    ['{"a":"\\n\\u001f"}', true],
    ['{"a":"\\u001F"}', false],
    ['{"a":"\\ud83d\\ude00"}', false],
    ['{"a":"😀"}', true],
    ['{"a":01}', false],
    ['{"a":tru}', false],
    ['{"a":1}x', false],
    ['', false],
  ])('judges %j as %s, like parse-and-reserialise', (text, want) => {
    expect(isCanonicalJson(text)).toBe(want)
    expect(reference(text)).toBe(want)
  })

  it('agrees with canonicalJson(JSON.parse(text)) === text on generated and mutated texts', () => {
    // Given a deterministic generator of JSON values and byte-level mutations of their canonical text
    let seed = 42
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
    const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T
    const atoms = [0, -1, 1.5, 1e21, 1e-7, 123456789012345680, 'x', 'é', '😀', '\n', '\u001f', '"', '\\', true, false, null]
    const gen = (depth: number): unknown => {
      const r = rand()
      if (depth > 3 || r < 0.4) return pick(atoms)
      if (r < 0.7) return Array.from({length: Math.floor(rand() * 4)}, () => gen(depth + 1))
      return Object.fromEntries(Array.from({length: Math.floor(rand() * 4)}, () => [pick(['a', 'b', '10', '9', 'é', '😀', '\ufb33', 'A']), gen(depth + 1)]))
    }
    const alphabet = ['"', '\\', ',', ':', '{', '}', '[', ']', ' ', '0', '1', '-', '.', 'e', 'E', '+', 'u', 'n', 'a']
    let checked = 0
    for (let i = 0; i < 3000; i++) {
      const text = canonicalJson(gen(0))
      // When the validator and the definition judge the text and a mutation of it
      expect(isCanonicalJson(text)).toBe(true)
      const at = Math.floor(rand() * (text.length + 1))
      const mutated = rand() < 0.5 ? text.slice(0, at) + pick(alphabet) + text.slice(at) : text.slice(0, at) + text.slice(at + 1)
      // Then they always agree
      expect(isCanonicalJson(mutated), mutated).toBe(reference(mutated))
      checked++
    }
    expect(checked).toBe(3000)
  })
})
