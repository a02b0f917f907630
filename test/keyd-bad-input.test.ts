// Bad input on every keyd route: the error envelope, the daemon still serving, nothing signed.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {mkdirSync, writeFileSync} from 'node:fs'
import {randomBytes} from 'node:crypto'
import {join} from 'node:path'
import {keydApi} from '../src/daemons/keyd/api.js'
import {openLedger} from '../src/lib/ledger/ledger.js'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'
import {rawRequest} from './helpers/raw-request.js'
import {badInputTable, socketSender, type BadInputCase} from './helpers/bad-input.js'

let env: TestEnv
let keyd: DaemonProcess
// Table rows name the wallets by placeholder: the ids exist only once beforeAll has created them.
const eth = 'ETH_WALLET'
const sol = 'SOL_WALLET'
const ids = {ETH_WALLET: '', SOL_WALLET: ''}
const unknown = 'wal_01JDX8Q4S1T6V0W7Y2Z3A4B5C6'
const TO = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'

beforeAll(async () => {
  env = await testEnv()
  mkdirSync(join(env.paths.configDir, 'secrets'), {recursive: true})
  writeFileSync(join(env.paths.configDir, 'secrets', 'keyd.kek'), randomBytes(32).toString('hex'), {mode: 0o600})
  keyd = await env.start('keyd')
  const client = env.client('keyd', keydApi)
  ids.ETH_WALLET = (await client.walletCreate({chain: 'ethereum', label: 'eth'})).id
  ids.SOL_WALLET = (await client.walletCreate({chain: 'solana', label: 'sol'})).id
  client.close()
})

afterAll(async () => {
  await keyd?.stopClean()
  await env?.cleanup()
})

// The health probe after the table.
const send = (method: string, path: string) => rawRequest(keyd.socket, method, path, {headers: {authorization: `Bearer ${env.token('operator')}`}})

const params = {chain_id: 1, nonce: 0}
const MAIL = {types: {Person: [{name: 'name', type: 'string'}, {name: 'wallet', type: 'address'}], Mail: [{name: 'from', type: 'Person'}, {name: 'contents', type: 'string'}]}, primaryType: 'Mail', domain: {name: 'Ether Mail', chainId: 1}, message: {from: {name: 'Cow', wallet: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826'}, contents: 'hi'}}
const build = (over: Record<string, unknown>) => ({wallet_id: eth, tx_type: 'transfer', to: TO, value: '1', chain_params: params, ...over})
const sendBody = (over: Record<string, unknown>) => ({wallet_id: eth, to: TO, amount: '0.1', chain_params: params, ...over})

const V = {wantStatus: 400, wantCode: 'VALIDATION_FAILED'}
const A = {wantStatus: 400, wantCode: 'INVALID_ADDRESS'}

const CASES: BadInputCase[] = [
  {name: 'create: malformed JSON', path: '/wallet/create', body: '{"chain":', wantStatus: 400, wantCode: 'INVALID_JSON'},
  {name: 'create: unknown chain', path: '/wallet/create', body: {chain: 'bitcoin', label: 'x'}, ...V},
  {name: 'create: empty label', path: '/wallet/create', body: {chain: 'ethereum', label: ''}, ...V},
  {name: 'create: label over 64', path: '/wallet/create', body: {chain: 'ethereum', label: 'x'.repeat(65)}, ...V},
  {name: 'create: unknown field', path: '/wallet/create', body: {chain: 'ethereum', label: 'y', private_key: '0x01'}, ...V},
  {name: 'create: label taken', path: '/wallet/create', body: {chain: 'solana', label: 'eth'}, wantStatus: 409, wantCode: 'ALREADY_EXISTS'},
  {name: 'list: bad chain', method: 'GET', path: '/wallet/list?chain=doge', ...V},
  {name: 'build: unknown wallet', path: '/wallet/build-tx', body: build({wallet_id: unknown}), wantStatus: 404, wantCode: 'NOT_FOUND'},
  {name: 'build: bad wallet id', path: '/wallet/build-tx', body: build({wallet_id: 'wal_x'}), ...V},
  {name: 'build: bad checksum', path: '/wallet/build-tx', body: build({to: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD'}), ...A},
  {name: 'build: 19-byte address', path: '/wallet/build-tx', body: build({to: '0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea'}), ...A},
  {name: 'build: 21-byte address', path: '/wallet/build-tx', body: build({to: `0x${'11'.repeat(21)}`}), ...A},
  {name: 'build: Solana address to an Ethereum wallet', path: '/wallet/build-tx', body: build({to: 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA'}), ...A},
  {name: 'build: bad token address', path: '/wallet/build-tx', body: build({tx_type: 'token_transfer', token: '0x1234'}), ...A},
  {name: 'build: negative value', path: '/wallet/build-tx', body: build({value: '-1'}), ...V},
  {name: 'build: fractional value', path: '/wallet/build-tx', body: build({value: '1.5'}), ...V},
  {name: 'build: value as number', path: '/wallet/build-tx', body: build({value: 1}), ...V},
  {name: 'build: value with exponent', path: '/wallet/build-tx', body: build({value: '1e18'}), ...V},
  {name: 'build: value over 78 digits', path: '/wallet/build-tx', body: build({value: '9'.repeat(79)}), ...V},
  {name: 'build: value overflowing uint256', path: '/wallet/build-tx', body: build({value: '9'.repeat(78)}), ...V},
  {name: 'build: missing chain_id', path: '/wallet/build-tx', body: build({chain_params: {nonce: 0}}), ...V},
  {name: 'build: missing nonce', path: '/wallet/build-tx', body: build({chain_params: {chain_id: 1}}), ...V},
  {name: 'build: negative nonce', path: '/wallet/build-tx', body: build({chain_params: {chain_id: 1, nonce: -1}}), ...V},
  {name: 'build: chain id 0', path: '/wallet/build-tx', body: build({chain_params: {chain_id: 0, nonce: 0}}), ...V},
  {name: 'build: unknown chain_params field', path: '/wallet/build-tx', body: build({chain_params: {...params, gas_price: '1'}}), ...V},
  {name: 'build: chain without fee defaults', path: '/wallet/build-tx', body: build({chain_params: {chain_id: 999, nonce: 0}}), ...V},
  {name: 'build: tip above max fee', path: '/wallet/build-tx', body: build({chain_params: {...params, max_fee_per_gas: '1', max_priority_fee_per_gas: '2'}}), ...V},
  {name: 'build: gas limit below 21000', path: '/wallet/build-tx', body: build({chain_params: {...params, gas_limit: 20_999}}), ...V},
  {name: 'build: unknown tx_type', path: '/wallet/build-tx', body: build({tx_type: 'deploy'}), ...V},
  {name: 'build: data on a transfer', path: '/wallet/build-tx', body: build({data: '0xa9059cbb'}), ...V},
  {name: 'build: contract_call without data', path: '/wallet/build-tx', body: build({tx_type: 'contract_call'}), ...V},
  {name: 'build: odd-length data', path: '/wallet/build-tx', body: build({tx_type: 'contract_call', data: '0xa9059cb'}), ...V},
  {name: 'build: oversized data (24 KiB + 1)', path: '/wallet/build-tx', body: build({tx_type: 'contract_call', data: `0x${'00'.repeat(24 * 1024 + 1)}`}), ...V},
  {name: 'build: token_transfer without token', path: '/wallet/build-tx', body: build({tx_type: 'token_transfer'}), ...V},
  {name: 'build: Ethereum chain_params for a Solana wallet', path: '/wallet/build-tx', body: build({wallet_id: sol}), ...V},
  {name: 'build: Solana chain_params for an Ethereum wallet', path: '/wallet/build-tx', body: build({chain_params: {recent_blockhash: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N'}}), ...V},
  {name: 'build: Solana with an Ethereum address', path: '/wallet/build-tx', body: build({wallet_id: sol, chain_params: {recent_blockhash: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N'}}), ...A},
  {name: 'build: Solana blockhash not base58', path: '/wallet/build-tx', body: build({wallet_id: sol, to: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', chain_params: {recent_blockhash: '0OIl'}}), ...V},
  {name: 'build: Solana SPL token without decimals', path: '/wallet/build-tx', body: build({wallet_id: sol, tx_type: 'token_transfer', to: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', token: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', chain_params: {recent_blockhash: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N'}}), ...V},
  {name: 'build: Solana SPL decimals over 255', path: '/wallet/build-tx', body: build({wallet_id: sol, tx_type: 'token_transfer', to: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', token: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', chain_params: {recent_blockhash: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', decimals: 256}}), ...V},
  {name: 'build: Solana SPL unknown token program', path: '/wallet/build-tx', body: build({wallet_id: sol, tx_type: 'token_transfer', to: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', token: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', chain_params: {recent_blockhash: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', decimals: 6, token_program: '11111111111111111111111111111111'}}), ...V},
  {name: 'build: Solana SPL create_ata not boolean', path: '/wallet/build-tx', body: build({wallet_id: sol, tx_type: 'token_transfer', to: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', token: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', chain_params: {recent_blockhash: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', decimals: 6, create_ata: 'yes'}}), ...V},
  {name: 'build: Solana SPL mint not base58', path: '/wallet/build-tx', body: build({wallet_id: sol, tx_type: 'token_transfer', to: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', token: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', chain_params: {recent_blockhash: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', decimals: 6}}), ...A},
  {name: 'build: Solana SPL amount over u64', path: '/wallet/build-tx', body: build({wallet_id: sol, tx_type: 'token_transfer', to: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', token: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', value: '18446744073709551616', chain_params: {recent_blockhash: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', decimals: 6}}), ...V},
  {name: 'build: Solana contract_call', path: '/wallet/build-tx', body: build({wallet_id: sol, tx_type: 'contract_call', to: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', data: '0xa9059cbb', chain_params: {recent_blockhash: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N'}}), ...V},
  {name: 'build: Solana native transfer with decimals', path: '/wallet/build-tx', body: build({wallet_id: sol, to: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', chain_params: {recent_blockhash: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', decimals: 9}}), ...V},
  {name: 'build: Solana lamports over u64', path: '/wallet/build-tx', body: build({wallet_id: sol, to: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', value: '18446744073709551616', chain_params: {recent_blockhash: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N'}}), ...V},
  {name: 'send: SOL amount beyond 9 decimals', path: '/wallet/send', body: sendBody({wallet_id: sol, to: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', amount: '0.0000000001', chain_params: {recent_blockhash: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N'}}), ...V},
  {name: 'send: amount with too many decimals', path: '/wallet/send', body: sendBody({amount: '0.1234567890123456789'}), ...V},
  {name: 'send: negative amount', path: '/wallet/send', body: sendBody({amount: '-1'}), ...V},
  {name: 'send: amount as number', path: '/wallet/send', body: sendBody({amount: 0.1}), ...V},
  {name: 'send: token amount beyond decimals', path: '/wallet/send', body: sendBody({token: TO, amount: '1.001', chain_params: {...params, decimals: 2}}), ...V},
  {name: 'send: token without decimals', path: '/wallet/send', body: sendBody({token: TO}), ...V},
  {name: 'sign: unknown wallet', path: '/wallet/sign', body: {wallet_id: unknown, payload: '0x01'}, wantStatus: 404, wantCode: 'NOT_FOUND'},
  {name: 'sign: non-hex payload', path: '/wallet/sign', body: {wallet_id: eth, payload: 'hello'}, ...V},
  {name: 'sign: payload over 64 KiB', path: '/wallet/sign', body: {wallet_id: eth, payload: `0x${'00'.repeat(64 * 1024 + 1)}`}, ...V},
  {name: 'sign: raw digest not 32 bytes', path: '/wallet/sign', body: {wallet_id: eth, payload: '0x01', scheme: 'raw_digest'}, ...V},
  {name: 'sign: eip191 on Solana', path: '/wallet/sign', body: {wallet_id: sol, payload: '0x01', scheme: 'eip191'}, ...V},
  {name: 'sign: unsupported scheme', path: '/wallet/sign', body: {wallet_id: eth, payload: '0x01', scheme: 'solana_offchain'}, ...V},
  {name: 'sign: eip712 with payload', path: '/wallet/sign', body: {wallet_id: eth, payload: '0x01', scheme: 'eip712'}, ...V},
  {name: 'sign: neither payload nor typed_data', path: '/wallet/sign', body: {wallet_id: eth}, ...V},
  {name: 'sign: typed_data types not an object', path: '/wallet/sign', body: {wallet_id: eth, typed_data: {...MAIL, types: 1}}, ...V},
  {name: 'sign: typed_data undeclared primaryType', path: '/wallet/sign', body: {wallet_id: eth, typed_data: {...MAIL, primaryType: 'Letter'}}, ...V},
  {name: 'sign: typed_data unknown field type', path: '/wallet/sign', body: {wallet_id: eth, typed_data: {...MAIL, types: {...MAIL.types, Person: [{name: 'name', type: 'strng'}]}}}, ...V},
  {name: 'sign: typed_data missing field', path: '/wallet/sign', body: {wallet_id: eth, typed_data: {...MAIL, message: {contents: 'hi'}}}, ...V},
  {name: 'sign: typed_data value out of range', path: '/wallet/sign', body: {wallet_id: eth, typed_data: {...MAIL, domain: {chainId: -1}}}, ...V},
  {name: 'sign: typed_data bad address checksum', path: '/wallet/sign', body: {wallet_id: eth, typed_data: {...MAIL, message: {...MAIL.message, from: {name: 'Cow', wallet: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD82A'}}}}, ...A},
  {name: 'sign: solana_offchain with non-UTF-8 bytes', path: '/wallet/sign', body: {wallet_id: sol, payload: '0xfffe'}, ...V},
  {name: 'sign: solana_offchain with an empty message', path: '/wallet/sign', body: {wallet_id: sol, payload: '0x'}, ...V},
  {name: 'sign: typed_data on Solana', path: '/wallet/sign', body: {wallet_id: sol, typed_data: MAIL}, ...V},
  {name: 'delete: unknown wallet', path: '/wallet/delete', body: {wallet_id: unknown}, wantStatus: 404, wantCode: 'NOT_FOUND'},
  {name: 'receipts: limit 0', method: 'GET', path: '/wallet/receipts?limit=0', ...V},
  {name: 'receipts: limit -1', method: 'GET', path: '/wallet/receipts?limit=-1', ...V},
  {name: 'receipts: bad action', method: 'GET', path: '/wallet/receipts?action=steal', ...V},
  {name: 'policy put: agent', method: 'PUT', path: '/wallet/policy', body: {policy: {version: 1, default_effect: 'deny', rules: []}}, role: 'agent', wantStatus: 403, wantCode: 'FORBIDDEN'},
  {name: 'policy put: default allow', method: 'PUT', path: '/wallet/policy', body: {policy: {version: 1, default_effect: 'allow', rules: []}}, ...V},
  {name: 'policy put: duplicate rule ids', method: 'PUT', path: '/wallet/policy', body: {policy: {version: 1, default_effect: 'deny', rules: [{id: 'a', effect: 'allow', actions: ['send']}, {id: 'a', effect: 'deny', actions: ['send']}]}}, ...V},
  {name: 'policy put: negative max_per_tx', method: 'PUT', path: '/wallet/policy', body: {policy: {version: 1, default_effect: 'deny', rules: [{id: 'a', effect: 'allow', actions: ['send'], max_per_tx: '-5'}]}}, ...V},
  {name: 'policy put: bad selector', method: 'PUT', path: '/wallet/policy', body: {policy: {version: 1, default_effect: 'deny', rules: [{id: 'a', effect: 'allow', actions: ['contract_call'], selectors: ['transfer']}]}}, ...V},
  {name: 'evaluate: unknown action', path: '/wallet/policy/evaluate', body: {wallet_id: eth, action: 'mint'}, ...V},
  {name: 'evaluate: bad address', path: '/wallet/policy/evaluate', body: {wallet_id: eth, action: 'send', to: '0xZZ'}, ...A},
]

badInputTable('keyd bad input', CASES, {
  send: socketSender({
    socket: () => keyd.socket,
    token: (role) => env.token(role),
    // Wallet ids exist only once beforeAll has created them.
    substitute: (text) => text.replace(/ETH_WALLET|SOL_WALLET/g, (m) => ids[m as keyof typeof ids]),
  }),
})

describe('keyd after the bad input', () => {
  it('signed nothing and stayed up', async () => {
    const ledger = openLedger(env.paths.ledgerDb, {readonly: true})
    try {
      expect(ledger.query({type: 'wallet.tx_built', limit: 10, order: 'asc'})).toEqual([])
      expect(ledger.query({type: 'wallet.signed', limit: 10, order: 'asc'})).toEqual([])
    } finally {
      ledger.close()
    }
    expect((await send('GET', '/health')).status).toBe(200)
  })
})
