import {describe, expect, it} from 'vitest'
import {readFileSync} from 'node:fs'
import {keccak_256} from '@noble/hashes/sha3.js'
import {parseTransaction, recoverMessageAddress, recoverTransactionAddress, toFunctionSelector, type Hex} from 'viem'
import {eip1559SigningHash, erc20TransferData, ethAddressOf, parseEthAddress, personalMessageHash, signatureRsv, signEip1559, toChecksumAddress, type Eip1559Fields} from './eth.js'
import {rlpDecode} from './rlp.js'

const VECTORS = '/work/shared/vectors/eth'
const bytes = (h: string) => Uint8Array.from(Buffer.from(h.replace(/^0x/, ''), 'hex'))
const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`

interface Vector {nonce: number; value: number; gasLimit: number; maxPriorityFeePerGas: number; maxFeePerGas: number; to: string; privateKey: string; signedTransactionRLP: string}
const vectors = JSON.parse(readFileSync(`${VECTORS}/eip1559-ethereumjs.json`, 'utf8')) as Vector[]

describe('EIP-1559 signing', () => {
  it.each(vectors.map((v, i) => ({...v, i})))('reproduces ethereumjs vector $i byte for byte (raw tx and hash)', (v) => {
    // Given the vector's fields (chain id 4, empty data and access list) and key
    const tx: Eip1559Fields = {
      chainId: 4n, nonce: BigInt(v.nonce), maxPriorityFeePerGas: BigInt(v.maxPriorityFeePerGas), maxFeePerGas: BigInt(v.maxFeePerGas),
      gasLimit: BigInt(v.gasLimit), to: bytes(v.to), value: BigInt(v.value), data: new Uint8Array(0), accessList: [],
    }
    // When signed
    const signed = signEip1559(tx, bytes(v.privateKey))
    // Then the raw bytes equal the vector with its one RLP string wrapper removed, and the hash is keccak256 of them
    const want = rlpDecode(bytes(v.signedTransactionRLP)) as Uint8Array
    expect(hex(signed.raw)).toBe(hex(want))
    expect(hex(signed.hash)).toBe(hex(keccak_256(want)))
  })

  it('serialises an access list and data like the ethereumjs eip1559txs item (unsigned fields)', async () => {
    // Given the item's fields; its r/s are not a valid signature, so only the unsigned part and the sender are compared
    const item = (JSON.parse(readFileSync(`${VECTORS}/eip1559txs-ethereumjs.json`, 'utf8')) as {privateKey: string; sendersAddress: string; data: {data: string; to: string; accessList: {address: string; storageKeys: string[]}[]}}[])[0]!
    const tx: Eip1559Fields = {
      chainId: 1n, nonce: 0n, maxPriorityFeePerGas: 1n, maxFeePerGas: 1n, gasLimit: 0x02625a00n, to: bytes(item.data.to), value: 0x0186a0n, data: bytes(item.data.data),
      accessList: item.data.accessList.map((e) => ({address: bytes(e.address), storageKeys: e.storageKeys.map(bytes)})),
    }
    // When signed with the item's key
    const signed = signEip1559(tx, bytes(item.privateKey))
    // Then viem decodes the same fields and access list, and recovers the item's sender
    const parsed = parseTransaction(hex(signed.raw) as Hex)
    expect(parsed).toMatchObject({type: 'eip1559', chainId: 1, gas: 0x02625a00n, value: 0x0186a0n, data: item.data.data, accessList: item.data.accessList})
    expect((await recoverTransactionAddress({serializedTransaction: hex(signed.raw) as `0x02${string}`})).toLowerCase()).toBe(`0x${item.sendersAddress}`)
    expect(ethAddressOf(bytes(item.privateKey)).toLowerCase()).toBe(`0x${item.sendersAddress}`)
  })

  it('produces transactions viem decodes and recovers to the signing address', async () => {
    for (let i = 0; i < 20; i++) {
      // Given a random key and a transaction with a large value and call data
      const key = crypto.getRandomValues(new Uint8Array(32))
      const tx: Eip1559Fields = {
        chainId: 8453n, nonce: BigInt(i), maxPriorityFeePerGas: 10n ** 9n, maxFeePerGas: 3n * 10n ** 10n, gasLimit: 65_000n,
        to: crypto.getRandomValues(new Uint8Array(20)), value: 10n ** 24n + BigInt(i), data: erc20TransferData(new Uint8Array(20).fill(7), 5n), accessList: [],
      }
      // When signed
      const signed = signEip1559(tx, key)
      // Then viem parses every field back and recovers the same address
      const serialized = hex(signed.raw) as `0x02${string}`
      const parsed = parseTransaction(serialized)
      expect(parsed).toMatchObject({chainId: 8453, nonce: i, value: tx.value, gas: 65_000n, maxFeePerGas: tx.maxFeePerGas, to: toChecksumAddress(tx.to).toLowerCase()})
      expect(await recoverTransactionAddress({serializedTransaction: serialized})).toBe(ethAddressOf(key))
      expect(hex(eip1559SigningHash(tx))).toHaveLength(66)
    }
  })
})

describe('addresses', () => {
  // EIP-55's own examples.
  const EIP55 = ['0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359', '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB', '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb']

  it.each(EIP55)('accepts %s and its lowercase and uppercase forms', (address) => {
    expect(toChecksumAddress(parseEthAddress(address))).toBe(address)
    expect(toChecksumAddress(parseEthAddress(address.toLowerCase()))).toBe(address)
    expect(toChecksumAddress(parseEthAddress(`0x${address.slice(2).toUpperCase()}`))).toBe(address)
  })

  it.each([
    ['bad checksum', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD'],
    ['19 bytes', '0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea'],
    ['21 bytes', '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed00'],
    ['no 0x', '5aaeb6053f3e94c9b9a09f33669435e7ef1beaed'],
    ['non-hex', '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg'],
    ['empty', ''],
  ])('refuses %s with INVALID_ADDRESS', (_name, address) => {
    expect(() => parseEthAddress(address)).toThrow(expect.objectContaining({code: 'INVALID_ADDRESS'}))
  })

  it('derives the address of a known key (eip1559txs item)', () => {
    expect(ethAddressOf(bytes('e0a462586887362a18a318b128dbc1e3a0cae6d4b0739f5d0419ec25114bc722')).toLowerCase()).toBe('0xd13d825eb15c87b247c4c26331d66f225a5f632e')
  })
})

describe('EIP-191 and ERC-20', () => {
  it('signs personal messages viem recovers', async () => {
    const key = crypto.getRandomValues(new Uint8Array(32))
    const message = new TextEncoder().encode('hello osmoda')
    const {signature} = signatureRsv(personalMessageHash(message), key)
    expect(signature[64]).toBeGreaterThanOrEqual(27)
    expect(await recoverMessageAddress({message: {raw: message}, signature: hex(signature) as Hex})).toBe(ethAddressOf(key))
  })

  it('encodes transfer(address,uint256) with the standard selector', () => {
    const data = erc20TransferData(new Uint8Array(20).fill(0x11), 1000n)
    expect(hex(data.subarray(0, 4))).toBe(toFunctionSelector('transfer(address,uint256)'))
    expect(data).toHaveLength(68)
    expect(hex(data.subarray(66))).toBe('0x03e8')
  })
})
