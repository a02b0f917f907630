import {generateKeyPairSync} from 'node:crypto'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {rawRequest} from '../../../../test/helpers/raw-request.js'
import type {OsmodaError} from '../../../lib/errors.js'
import {rawEd25519PublicKey, signCheckpoint} from '../../../lib/ledger/checkpoint.js'
import {signCosignature, witnessName} from '../../../lib/ledger/cosignature.js'
import {openLedger, type Ledger} from '../../../lib/ledger/ledger.js'
import {leafHash, merkleRoot} from '../../../lib/ledger/merkle.js'
import {silentLogger} from '../../../lib/log.js'
import {createTokenAuth, tokenDigest} from '../../../lib/rpc/auth.js'
import {createClient, type RpcClient} from '../../../lib/rpc/client.js'
import {createRpcServer, type RpcServer} from '../../../lib/rpc/server.js'
import {witnessApi} from './api.js'
import {witnessHandlers} from './routes.js'
import {createCosignatureService} from './service.js'

const OP = `osm_op_${'o'.repeat(43)}`
const AG = `osm_ag_${'a'.repeat(43)}`
const ORIGIN = 'osmoda/00112233445566778899aabbccddeeff/ledger'
const WITNESS = witnessName('ffeeddccbbaa99887766554433221100')
const node = generateKeyPairSync('ed25519')
const witnessKey = generateKeyPairSync('ed25519')
const witnessPub = rawEd25519PublicKey(witnessKey.privateKey).toString('hex')

let dir: string
let ledger: Ledger
let server: RpcServer
let socket: string
let operator: RpcClient<typeof witnessApi>
let root: Buffer

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'osmoda-cosig-'))
  mkdirSync(join(dir, 'tokens'))
  writeFileSync(join(dir, 'tokens', 'operator.sha256'), tokenDigest(OP))
  writeFileSync(join(dir, 'tokens', 'agent.sha256'), tokenDigest(AG))
  ledger = openLedger(join(dir, 'ledger.db'))
  for (let i = 0; i < 5; i++) ledger.append({type: 'test.event', actor: 'agentd', payload: {i}})
  root = merkleRoot(ledger.eventHashes(1, 5).map(leafHash))
  ledger.saveCheckpoint({size: 5, root_hash: root.toString('base64'), ts: '2026-11-26T05:00:00.000Z', note: signCheckpoint({origin: ORIGIN, size: 5, rootHash: root, privateKey: node.privateKey, keyName: ORIGIN})})
  socket = join(dir, 'agentd.sock')
  server = createRpcServer({daemon: 'agentd', version: '0', api: witnessApi, handlers: witnessHandlers(createCosignatureService({ledger})), auth: createTokenAuth(join(dir, 'tokens')), log: silentLogger})
  await server.listen(socket)
  operator = createClient('agentd', witnessApi, {socketPath: socket, token: OP})
})

afterEach(async () => {
  operator.close()
  await server.close()
  ledger.close()
  rmSync(dir, {recursive: true, force: true})
})

const codeOf = async (p: Promise<unknown>) => p.then(() => 'NO_ERROR', (e: OsmodaError) => e.code)
const cosign = (size = 5, rootHash: Buffer = root) => signCosignature({origin: ORIGIN, size, rootHash}, WITNESS, witnessKey.privateKey, Date.parse('2026-11-26T05:01:02.345Z'))
const body = (c = cosign()) => ({size: 5, root_hash: root.toString('base64'), witness: WITNESS, witness_pubkey: witnessPub, cosignature: c.cosignature, ts: c.ts})

describe('POST /ledger/cosignatures', () => {
  it('verifies the cosignature over the stored checkpoint and stores it once (idempotent)', async () => {
    // When a valid cosignature is posted twice
    expect(await operator.ledgerCosignatures(body())).toEqual({stored: true})
    expect(await operator.ledgerCosignatures(body())).toEqual({stored: true})
    // Then the checkpoint carries exactly one cosignature with its key id and timestamp
    const stored = ledger.cosignatures(5)
    expect(stored).toHaveLength(1)
    expect(stored[0]).toMatchObject({witness: WITNESS, key_id: cosign().key_id, cosignature: cosign().cosignature, ts: '2026-11-26T05:01:02.000Z'})
  })

  it('refuses a cosignature of another root (409), of an unknown size (404), by another key or over another head (400)', async () => {
    // Given cosignatures that do not fit the stored checkpoint
    const otherRoot = Buffer.alloc(32, 7)
    const otherKey = rawEd25519PublicKey(generateKeyPairSync('ed25519').privateKey).toString('hex')
    const overSize4 = cosign(4)
    // Then each is refused with its code and nothing is stored
    expect(await codeOf(operator.ledgerCosignatures({...body(cosign(5, otherRoot)), root_hash: otherRoot.toString('base64')}))).toBe('CONFLICT')
    expect(await codeOf(operator.ledgerCosignatures({...body(), size: 6}))).toBe('NOT_FOUND')
    expect(await codeOf(operator.ledgerCosignatures({...body(), witness_pubkey: otherKey}))).toBe('VALIDATION_FAILED')
    expect(await codeOf(operator.ledgerCosignatures(body(overSize4)))).toBe('VALIDATION_FAILED')
    expect(await codeOf(operator.ledgerCosignatures({...body(), witness: witnessName('0'.repeat(32))}))).toBe('VALIDATION_FAILED')
    expect(await codeOf(operator.ledgerCosignatures({...body(), ts: '2026-11-26T05:09:00.000Z'}))).toBe('VALIDATION_FAILED')
    expect(ledger.cosignatureCount(5)).toBe(0)
  })
})

interface Case {
  name: string
  body: () => string
  role?: 'operator' | 'agent' | 'none'
  method?: string
  wantStatus: number
  wantCode: string
}

const json = (value: unknown) => JSON.stringify(value)

describe('POST /ledger/cosignatures: bad input', () => {
  const good = () => body()
  const cases: Case[] = [
    {name: 'by the agent', body: () => json(good()), role: 'agent', wantStatus: 403, wantCode: 'FORBIDDEN'},
    {name: 'without a token', body: () => json(good()), role: 'none', wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
    {name: 'malformed JSON', body: () => '{"size": 5,', wantStatus: 400, wantCode: 'INVALID_JSON'},
    {name: 'unknown field', body: () => json({...good(), note: 'x'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'size as string', body: () => json({...good(), size: '5'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'size 0', body: () => json({...good(), size: 0}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'size negative', body: () => json({...good(), size: -1}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'size huge', body: () => json({...good(), size: 2 ** 60}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'root not base64 of 32 bytes', body: () => json({...good(), root_hash: 'AAAA'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'witness with a space', body: () => json({...good(), witness: 'a b'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'witness too long', body: () => json({...good(), witness: 'w'.repeat(257)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'pubkey not hex', body: () => json({...good(), witness_pubkey: 'z'.repeat(64)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'cosignature too long', body: () => json({...good(), cosignature: 'A'.repeat(300)}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'cosignature garbage', body: () => json({...good(), cosignature: '!!!'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'ts not a time', body: () => json({...good(), ts: 'yesterday'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'missing cosignature', body: () => json({...good(), cosignature: undefined}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'wrong method', body: () => json(good()), method: 'PUT', wantStatus: 405, wantCode: 'METHOD_NOT_ALLOWED'},
  ]
  it.each(cases)('$name → $wantStatus $wantCode', async (c) => {
    const role = c.role ?? 'operator'
    const headers: Record<string, string> = {'content-type': 'application/json'}
    if (role !== 'none') headers.authorization = `Bearer ${role === 'operator' ? OP : AG}`
    const res = await rawRequest(socket, c.method ?? 'POST', '/ledger/cosignatures', {headers, body: c.body()})
    expect(res.status).toBe(c.wantStatus)
    expect(res.body?.error?.code).toBe(c.wantCode)
    expect(ledger.cosignatureCount(5)).toBe(0)
  })
})
