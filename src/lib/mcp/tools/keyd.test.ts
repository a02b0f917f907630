import {describe, expect, it} from 'vitest'
import {OsmodaError} from '../../errors.js'
import {connect, fakeKeyd, text} from '../../../../test/helpers/mcp-fakes.js'

const WALLET = 'wal_01JDX8Q4S1T6V0W7Y2Z3A4B5C6'
const TX = {
  wallet_id: WALLET, chain: 'ethereum' as const, tx_type: 'transfer' as const, signed_tx: '0x02f86c', encoding: 'hex' as const, tx_hash: `0x${'ab'.repeat(32)}`,
  from: '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb', to: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', value: '50000000000000000', asset: 'native',
  estimated_fee: '1050000000000000', fee_unit: 'wei' as const, rent_lamports: null, nonce: 7, chain_id: 1, policy: {decision: 'allowed' as const, rule_ids: ['eth-native-daily']},
}

describe('keyd tools', () => {
  it('wallet_send passes the validated arguments to keyd and says the transaction is not broadcast', async () => {
    // Given a keyd that records what it receives
    const received: unknown[] = []
    const mcp = await connect({clients: {keyd: fakeKeyd({walletSend: async (input) => (received.push(input), TX)})}})
    // When the agent sends 0.05 ETH
    const args = {wallet_id: WALLET, to: TX.to, amount: '0.05', chain_params: {chain_id: 1, nonce: 7}}
    const result = await mcp.client.callTool({name: 'wallet_send', arguments: args})
    // Then keyd got exactly the arguments and the agent a one-line summary with the hash
    expect(result.isError).toBeFalsy()
    expect(received).toEqual([args])
    expect(text(result)).toBe(`signed transfer of 50000000000000000 base units of native to ${TX.to} on chain 1: tx ${TX.tx_hash}, fee ≤ 1050000000000000 wei; not broadcast`)
    expect(mcp.records[0]).toMatchObject({tool: 'wallet_send', toolset: 'keyd', outcome: 'ok'})
    await mcp.close()
  })

  it('passes POLICY_DENIED and APPROVAL_REQUIRED through as tool errors', async () => {
    const keyd = fakeKeyd({
      walletBuildTx: () => Promise.reject(new OsmodaError('POLICY_DENIED', 'wallet policy denies this send', {details: {rule_id: 'eth-native-daily', reason: 'window full'}})),
      walletDelete: () => Promise.reject(new OsmodaError('APPROVAL_REQUIRED', 'wallet_delete needs approval', {details: {approval_id: 'apr_01JDX8Q4S1T6V0W7Y2Z3A4B5C6', expires_at: '2026-11-26T02:10:00.000Z', operation: 'wallet_delete', summary: 's'}})),
    })
    const mcp = await connect({clients: {keyd}})
    const denied = await mcp.client.callTool({name: 'wallet_build_tx', arguments: {wallet_id: WALLET, tx_type: 'transfer', to: TX.to, value: '1', chain_params: {chain_id: 1, nonce: 0}}})
    expect(denied.isError).toBe(true)
    expect(text(denied)).toMatch(/^POLICY_DENIED/)
    const gated = await mcp.client.callTool({name: 'wallet_delete', arguments: {wallet_id: WALLET}})
    expect(text(gated)).toMatch(/APPROVAL_REQUIRED/)
    expect(mcp.records[1]).toMatchObject({outcome: 'approval_required'})
    await mcp.close()
  })

  it('rejects bad arguments before keyd is called', async () => {
    const mcp = await connect({clients: {keyd: fakeKeyd()}})
    for (const args of [{wallet_id: WALLET, to: TX.to, amount: '-1', chain_params: {chain_id: 1, nonce: 0}}, {wallet_id: WALLET, to: TX.to, amount: '1', chain_params: {chain_id: 1}}]) {
      const result = await mcp.client.callTool({name: 'wallet_send', arguments: args})
      expect(result.isError).toBe(true)
      expect(text(result)).toMatch(/VALIDATION_FAILED/)
    }
    await mcp.close()
  })
})
