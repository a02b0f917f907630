import {describe, expect, it} from 'vitest'
import {hashTypedData, recoverTypedDataAddress, type TypedDataDefinition} from 'viem'
import {encodeType, TypedData, typedDataDigest} from './eip712.js'
import {ethAddressOf, signatureRsv} from './eth.js'

const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`

// The Mail example of EIP-712 itself.
const MAIL = {
  types: {
    EIP712Domain: [{name: 'name', type: 'string'}, {name: 'version', type: 'string'}, {name: 'chainId', type: 'uint256'}, {name: 'verifyingContract', type: 'address'}],
    Person: [{name: 'name', type: 'string'}, {name: 'wallet', type: 'address'}],
    Mail: [{name: 'from', type: 'Person'}, {name: 'to', type: 'Person'}, {name: 'contents', type: 'string'}],
  },
  primaryType: 'Mail',
  domain: {name: 'Ether Mail', version: '1', chainId: 1, verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC'},
  message: {from: {name: 'Cow', wallet: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826'}, to: {name: 'Bob', wallet: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB'}, contents: 'Hello, Bob!'},
}

// A richer shape: arrays of structs, fixed arrays, signed ints, bytes, bool, no declared EIP712Domain.
const RICH = {
  types: {
    Order: [{name: 'maker', type: 'address'}, {name: 'items', type: 'Item[]'}, {name: 'deltas', type: 'int64[2]'}, {name: 'memo', type: 'bytes'}, {name: 'tag', type: 'bytes4'}, {name: 'final', type: 'bool'}],
    Item: [{name: 'id', type: 'uint256'}, {name: 'amount', type: 'uint128'}],
  },
  primaryType: 'Order',
  domain: {name: 'Shop', chainId: 8453},
  message: {maker: '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed', items: [{id: '1', amount: 10}, {id: '0xff', amount: '340282366920938463463374607431768211455'}], deltas: [-5, '9'], memo: '0xdeadbeef', tag: '0xa9059cbb', final: true},
}

describe('EIP-712', () => {
  it('encodes the EIP-712 Mail type as the spec shows', () => {
    expect(encodeType(MAIL.types, 'Mail')).toBe('Mail(Person from,Person to,string contents)Person(string name,address wallet)')
  })

  it.each([['Mail', MAIL], ['rich', RICH]])('%s: the digest equals viem hashTypedData and signatures recover', async (_name, data) => {
    const parsed = TypedData.parse(data)
    const digest = typedDataDigest(parsed)
    expect(hex(digest)).toBe(hashTypedData(data as unknown as TypedDataDefinition))
    const key = crypto.getRandomValues(new Uint8Array(32))
    const {signature} = signatureRsv(digest, key)
    expect(await recoverTypedDataAddress({...(data as unknown as TypedDataDefinition), signature: hex(signature) as `0x${string}`})).toBe(ethAddressOf(key))
  })

  it('matches the published Mail digest', () => {
    expect(hex(typedDataDigest(TypedData.parse(MAIL)))).toBe('0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2')
  })

  it.each([
    ['unknown field type', {...MAIL, types: {...MAIL.types, Person: [{name: 'name', type: 'strng'}]}}],
    ['undeclared primaryType', {...MAIL, primaryType: 'Letter'}],
    ['missing message field', {...MAIL, message: {...MAIL.message, contents: undefined}}],
    ['extra message field', {...MAIL, message: {...MAIL.message, cc: 'x'}}],
    ['uint out of range', {...RICH, message: {...RICH.message, items: [{id: '-1', amount: 1}]}}],
    ['int64 out of range', {...RICH, message: {...RICH.message, deltas: ['9223372036854775808', 0]}}],
    ['fixed array wrong length', {...RICH, message: {...RICH.message, deltas: [1]}}],
    ['bytes4 wrong length', {...RICH, message: {...RICH.message, tag: '0xa9059c'}}],
    ['bool as string', {...RICH, message: {...RICH.message, final: 'true'}}],
    ['duplicate field', {...MAIL, types: {...MAIL.types, Person: [{name: 'name', type: 'string'}, {name: 'name', type: 'string'}]}}],
  ])('rejects %s with VALIDATION_FAILED', (_name, data) => {
    // The shape is valid JSON typed data; the encoder refuses the content
    const parsed = TypedData.parse(JSON.parse(JSON.stringify(data)))
    expect(() => typedDataDigest(parsed)).toThrow(expect.objectContaining({code: 'VALIDATION_FAILED'}))
  })

  it('rejects a bad address checksum with INVALID_ADDRESS', () => {
    const data = {...MAIL, message: {...MAIL.message, to: {name: 'Bob', wallet: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbb'}}}
    expect(() => typedDataDigest(TypedData.parse(data))).toThrow(expect.objectContaining({code: 'INVALID_ADDRESS'}))
  })

  it('rejects type names and field types outside the grammar at the schema', () => {
    expect(TypedData.safeParse({...MAIL, types: {'Bad Name': []}}).success).toBe(false)
    expect(TypedData.safeParse({...MAIL, types: {Person: [{name: 'x', type: 'uint256[]]'}]}}).success).toBe(false)
  })
})
