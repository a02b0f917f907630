// keyd end to end: the real daemon over its socket (and agentd's real gate for agent requests).
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {randomBytes} from 'node:crypto'
import {join} from 'node:path'
import {parseTransaction, recoverTransactionAddress, recoverTypedDataAddress, type TypedDataDefinition} from 'viem'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {keydApi} from '../src/daemons/keyd/api.js'
import {createKeystore, readKek} from '../src/daemons/keyd/keystore.js'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'
import {rawRequest} from './helpers/raw-request.js'

let env: TestEnv
let keyd: DaemonProcess
let agentd: DaemonProcess
let kekFile: string
const RECIPIENT = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'
const TOKEN = '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB'

beforeAll(async () => {
  env = await testEnv()
  mkdirSync(join(env.paths.configDir, 'secrets'), {recursive: true})
  kekFile = join(env.paths.configDir, 'secrets', 'keyd.kek')
  writeFileSync(kekFile, randomBytes(32), {mode: 0o600})
  agentd = await env.start('agentd')
  keyd = await env.start('keyd')
})

afterAll(async () => {
  await keyd?.stopClean()
  await agentd?.stopClean()
  await env?.cleanup()
})

const send = (method: string, path: string, body?: unknown, role: 'operator' | 'agent' = 'operator', raw?: string) =>
  rawRequest(keyd.socket, method, path, {
    headers: {authorization: `Bearer ${env.token(role)}`, ...(role === 'agent' ? {'x-osmoda-agent-id': 'osmoda'} : {}), ...(body === undefined && raw === undefined ? {} : {'content-type': 'application/json'})},
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  })

function filesUnder(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]))
}

describe('keyd', () => {
  it('creates wallets, signs transactions viem recovers, and gates what the policy gates', async () => {
    // Given an unlocked keyd
    const operator = env.client('keyd', keydApi)
    const agent = env.client('keyd', keydApi, 'agent', {'x-osmoda-agent-id': 'osmoda'})
    expect(await operator.health()).toMatchObject({keystore: 'unlocked', policy_loaded: true, policy_rules: 4, wallet_count: 0})
    // When the agent creates a wallet and sends 0.25 ETH (allowed by the seed policy)
    const wallet = await agent.walletCreate({chain: 'ethereum', label: 'agent-hot'})
    const tx = await agent.walletSend({wallet_id: wallet.id, to: RECIPIENT, amount: '0.25', chain_params: {chain_id: 11155111, nonce: 3}})
    // Then the raw transaction decodes with viem and recovers the wallet's address
    expect(parseTransaction(tx.signed_tx as `0x02${string}`)).toMatchObject({chainId: 11155111, nonce: 3, value: 250000000000000000n, to: RECIPIENT.toLowerCase()})
    expect(await recoverTransactionAddress({serializedTransaction: tx.signed_tx as `0x02${string}`})).toBe(wallet.address)
    // And a token transfer needs the operator's approval (agentd's real gate answers 412)
    const gated = await send('POST', '/wallet/build-tx', {wallet_id: wallet.id, tx_type: 'token_transfer', to: RECIPIENT, token: TOKEN, value: '1000', chain_params: {chain_id: 1, nonce: 4}}, 'agent')
    expect(gated.status).toBe(412)
    expect(gated.body).toMatchObject({error: {code: 'APPROVAL_REQUIRED', details: {approval_id: expect.stringMatching(/^apr_/)}}})
    // When the operator approves and the agent repeats the identical request with approval_id, Then it is signed once
    const approvalId = (gated.body as {error: {details: {approval_id: string}}}).error.details.approval_id
    const agentdOperator = env.client('agentd', agentdApi)
    await agentdOperator.approvalApprove({id: approvalId})
    agentdOperator.close()
    const tokenTx = {wallet_id: wallet.id, tx_type: 'token_transfer' as const, to: RECIPIENT, token: TOKEN, value: '1000', chain_params: {chain_id: 1, nonce: 4}}
    const approved = await agent.walletBuildTx({...tokenTx, approval_id: approvalId})
    expect(approved).toMatchObject({tx_type: 'token_transfer', asset: TOKEN, policy: {decision: 'approval_required', rule_ids: ['gated-by-default']}})
    const tokenParsed = parseTransaction(approved.signed_tx as `0x02${string}`)
    expect(tokenParsed).toMatchObject({to: TOKEN.toLowerCase(), data: expect.stringMatching(new RegExp(`^0xa9059cbb0{24}${RECIPIENT.slice(2).toLowerCase()}0{61}3e8$`))})
    expect(tokenParsed.value ?? 0n).toBe(0n)
    await expect(agent.walletBuildTx({...tokenTx, approval_id: approvalId})).rejects.toMatchObject({code: 'APPROVAL_INVALID'})
    // And an EIP-712 signature (allowed by sign-daily) recovers to the wallet with viem
    const typed = {types: {Permit: [{name: 'owner', type: 'address'}, {name: 'value', type: 'uint256'}]}, primaryType: 'Permit', domain: {name: 'Token', version: '1', chainId: 1, verifyingContract: TOKEN}, message: {owner: wallet.address, value: '1000'}}
    const signed = await agent.walletSign({wallet_id: wallet.id, typed_data: typed})
    expect(signed.scheme).toBe('eip712')
    expect(await recoverTypedDataAddress({...(typed as unknown as TypedDataDefinition), signature: signed.signature as `0x${string}`})).toBe(wallet.address)
    // And the receipts record every decision, newest first
    const receipts = await operator.walletReceipts({wallet_id: wallet.id})
    expect(receipts.receipts.map((r) => [r.action, r.decision])).toEqual([['sign', 'allowed'], ['token_transfer', 'allowed'], ['token_transfer', 'approval_required'], ['send', 'allowed'], ['create', 'allowed']])
    // An agent cannot change the policy
    expect((await send('PUT', '/wallet/policy', {policy: {version: 1, default_effect: 'deny', rules: []}}, 'agent')).status).toBe(403)
    operator.close()
    agent.close()
  })

  it('100 concurrent sends over the socket against a limit of 10 produce exactly 10 signatures', async () => {
    // Given a policy allowing 10 sends per hour
    const operator = env.client('keyd', keydApi)
    await operator.walletPolicyPut({policy: {version: 1, default_effect: 'deny', rules: [{id: 'ten', effect: 'allow', actions: ['send'], window: {secs: 3600, max_count: 10}, scope: 'wallet'}]}})
    const wallet = await operator.walletCreate({chain: 'ethereum', label: 'race'})
    // When 100 requests race on separate connections
    const results = await Promise.all(
      Array.from({length: 100}, (_, i) => send('POST', '/wallet/build-tx', {wallet_id: wallet.id, tx_type: 'transfer', to: RECIPIENT, value: '1', chain_params: {chain_id: 1, nonce: i}})),
    )
    // Then exactly 10 succeed and 90 are POLICY_DENIED
    expect(results.filter((r) => r.status === 200)).toHaveLength(10)
    expect(results.filter((r) => r.status === 403 && (r.body as {error: {code: string}}).error.code === 'POLICY_DENIED')).toHaveLength(90)
    operator.close()
  })

  it('osmoda wallet …: create, list, send, receipts, policy, with clear errors', async () => {
    // Given the operator CLI
    const created = await env.cli(['wallet', 'create', '--chain', 'ethereum', '--label', 'cli', '--json'])
    expect(created.exitCode, created.stderr).toBe(0)
    const wallet = (created.json as {result: {id: string; address: string}}).result
    expect((await env.cli(['wallet', 'list', '--chain', 'ethereum', '--json'])).json).toMatchObject({result: {wallets: expect.arrayContaining([expect.objectContaining({id: wallet.id})])}})
    // When a policy allowing sends is set from a file and a send is signed
    const file = join(env.base, 'policy.json')
    writeFileSync(file, JSON.stringify({version: 1, default_effect: 'deny', rules: [{id: 'cli-send', effect: 'allow', actions: ['send'], max_per_tx: '1000000000000000000', scope: 'wallet'}]}))
    expect((await env.cli(['wallet', 'policy', 'set', file, '--json'])).exitCode).toBe(0)
    const sent = await env.cli(['wallet', 'send', '--wallet', wallet.id, '--to', RECIPIENT, '--amount', '0.01', '--chain-param', 'chain_id=1', '--chain-param', 'nonce=0', '--json'])
    expect(sent.exitCode, sent.stderr).toBe(0)
    // Then the transaction recovers to the wallet, and the receipts and evaluation show it
    expect(await recoverTransactionAddress({serializedTransaction: (sent.json as {result: {signed_tx: `0x02${string}`}}).result.signed_tx})).toBe(wallet.address)
    expect((await env.cli(['wallet', 'receipts', '--wallet', wallet.id, '--action', 'send', '--json'])).json).toMatchObject({result: {receipts: [{decision: 'allowed', value: '10000000000000000'}]}})
    expect((await env.cli(['wallet', 'policy', 'evaluate', '--wallet', wallet.id, '--action', 'send', '--value', '2000000000000000000', '--json'])).json).toMatchObject({result: {decision: 'denied', rule_ids: ['cli-send']}})
    // And bad input is a clear error with the usage exit code; a denial exits 4
    const badParam = await env.cli(['wallet', 'send', '--wallet', wallet.id, '--to', RECIPIENT, '--amount', '1', '--chain-param', 'nonce', '--json'])
    expect(badParam.exitCode).toBe(2)
    const badAddress = await env.cli(['wallet', 'send', '--wallet', wallet.id, '--to', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD', '--amount', '0.01', '--chain-param', 'chain_id=1', '--chain-param', 'nonce=1', '--json'])
    expect(badAddress.json).toMatchObject({error: {code: 'INVALID_ADDRESS'}})
    const denied = await env.cli(['wallet', 'send', '--wallet', wallet.id, '--to', RECIPIENT, '--amount', '2', '--chain-param', 'chain_id=1', '--chain-param', 'nonce=1', '--json'])
    expect(denied.exitCode).toBe(4)
    expect(denied.json).toMatchObject({error: {code: 'POLICY_DENIED', details: {rule_id: 'cli-send'}}})
  })

  it('refuses to start with a wrong or missing KEK while wallets exist, rewriting no key file', async () => {
    // Given keyd stopped with wallets on disk
    await keyd.stopClean()
    const keysDir = join(env.paths.daemonStateDir('keyd'), 'keys')
    const before = new Map(readdirSync(keysDir).map((f) => [f, readFileSync(join(keysDir, f))]))
    const original = readFileSync(kekFile)
    // When the KEK is wrong, Then start fails with KEYSTORE_LOCKED naming the file
    writeFileSync(kekFile, randomBytes(32))
    await expect(env.start('keyd')).rejects.toThrow(/keystore locked: the key-encryption key \S*keyd\.kek opens none/)
    // When it is missing, Then the same, and no KEK was created
    rmSync(kekFile)
    await expect(env.start('keyd')).rejects.toThrow(/keystore locked: \d+ wallet\(s\) exist but the key-encryption key \S*keyd\.kek is missing/)
    expect(existsSync(kekFile)).toBe(false)
    // And every key file is byte-identical; with the right KEK keyd starts again
    for (const [f, bytes] of before) expect(readFileSync(join(keysDir, f)).equals(bytes), f).toBe(true)
    writeFileSync(kekFile, original, {mode: 0o600})
    keyd = await env.start('keyd')
    expect((await env.client('keyd', keydApi).health()).keystore).toBe('unlocked')
  })

  it('keeps no plaintext key anywhere in the state directory', async () => {
    // Given every wallet's plaintext key (decrypted here with the KEK, as keyd would)
    const keystore = createKeystore({dir: join(env.paths.daemonStateDir('keyd'), 'keys'), kek: readKek(kekFile, env.paths.stateDir), kekFile})
    const operator = env.client('keyd', keydApi)
    const secrets = (await operator.walletList({})).wallets.map((w) => keystore.withKey({wallet_id: w.id, chain: w.chain, address: w.address}, (s) => Buffer.from(s)))
    operator.close()
    expect(secrets.length).toBeGreaterThan(1)
    // When every file under the state dir is read, Then none holds a key as bytes, hex or base64
    for (const file of filesUnder(env.paths.stateDir)) {
      const content = readFileSync(file)
      for (const secret of secrets) {
        expect(content.includes(secret), file).toBe(false)
        expect(content.includes(Buffer.from(secret.toString('hex'))), file).toBe(false)
        expect(content.includes(Buffer.from(secret.toString('base64'))), file).toBe(false)
      }
    }
    expect(statSync(join(env.paths.daemonStateDir('keyd'), 'keys')).isDirectory()).toBe(true)
  })
})

describe('keyd without a KEK and without wallets', () => {
  it('starts locked and answers 503 KEYSTORE_LOCKED to create', async () => {
    // Given an initialised state whose KEK was removed (osmoda init creates one while no wallet exists)
    const bare = await testEnv()
    rmSync(join(bare.paths.configDir, 'secrets', 'keyd.kek'))
    try {
      const daemon = await bare.start('keyd')
      const client = bare.client('keyd', keydApi)
      expect(await client.health()).toMatchObject({keystore: 'locked', wallet_count: 0})
      await expect(client.walletCreate({chain: 'ethereum', label: 'x'})).rejects.toMatchObject({code: 'KEYSTORE_LOCKED'})
      client.close()
      await daemon.stopClean()
    } finally {
      await bare.cleanup()
    }
  })
})
