import {describe, expect, it} from 'vitest'
import {parseChainParams} from './wallet-params.js'

describe('--chain-param parsing', () => {
  it('types Ethereum and Solana parameters the way keyd validates them', () => {
    expect(parseChainParams(['chain_id=1', 'nonce=7', 'max_fee_per_gas=30000000000', 'access_list=[]'])).toEqual({chain_id: 1, nonce: 7, max_fee_per_gas: '30000000000', access_list: []})
    expect(
      parseChainParams(['recent_blockhash=EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', 'compute_unit_limit=300', 'compute_unit_price_micro_lamports=10000', 'decimals=6', 'create_ata=true', 'token_program=TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb']),
    ).toEqual({recent_blockhash: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', compute_unit_limit: 300, compute_unit_price_micro_lamports: 10_000, decimals: 6, create_ata: true, token_program: 'TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb'})
  })

  it.each([
    ['nonce', 'nonce=7.5', 'integer'],
    ['compute budget', 'compute_unit_limit=lots', 'integer'],
    ['boolean', 'create_ata=yes', 'true or false'],
    ['pair', 'chain_id', 'key=value'],
    ['JSON', 'access_list=[', 'not valid JSON'],
  ])('refuses a malformed %s', (_name, pair, message) => {
    expect(() => parseChainParams([pair])).toThrow(expect.objectContaining({code: 'VALIDATION_FAILED', message: expect.stringContaining(message)}))
  })
})
