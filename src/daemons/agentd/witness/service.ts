import type {z} from 'zod'
import {ConflictError, NotFoundError, UsageError} from '../../../lib/errors.js'
import {parseCheckpointNote} from '../../../lib/ledger/checkpoint.js'
import type {CheckpointStore} from '../../../lib/ledger/checkpoint-store.js'
import {verifyCosignature} from '../../../lib/ledger/cosignature.js'
import type {CosignatureInput} from './api.js'

/** Stores witness cosignatures of this node's checkpoints, each verified first. */
export interface CosignatureService {
  store(input: z.output<typeof CosignatureInput>): {stored: true}
}

/**
 * The cosignature is checked over the checkpoint agentd itself stored at that size (never over
 * what the caller claims), with the key the caller names; the CLI's `verify-ledger --witnesses`
 * later checks it again with the key mesh pinned, so a wrong key here cannot vouch for anything.
 */
export function createCosignatureService(deps: {ledger: CheckpointStore}): CosignatureService {
  return {
    store(input) {
      const checkpoint = deps.ledger.getCheckpoint(input.size)
      if (!checkpoint) throw new NotFoundError(`no checkpoint of size ${input.size}`, {hint: 'GET /ledger/checkpoints lists the signed sizes'})
      if (checkpoint.root_hash !== input.root_hash) {
        throw new ConflictError(`the witness cosigned root ${input.root_hash} but checkpoint ${input.size} has root ${checkpoint.root_hash}`, {
          details: {state: 'root_differs', size: input.size, stored_root_hash: checkpoint.root_hash, root_hash: input.root_hash},
          hint: 'a witness holding another root for this size saw a different ledger: run osmoda verify-ledger --witnesses',
        })
      }
      const {origin} = parseCheckpointNote(checkpoint.note)
      let timestampMs: number
      try {
        timestampMs = verifyCosignature({origin, size: input.size, rootHash: input.root_hash}, input.witness, Buffer.from(input.witness_pubkey, 'hex'), input.cosignature)
      } catch (error) {
        throw new UsageError(`bad cosignature: ${(error as Error).message}`, {details: [`cosignature: does not verify with witness_pubkey over checkpoint ${input.size}`]})
      }
      if (Math.floor(Date.parse(input.ts) / 1000) * 1000 !== timestampMs) {
        throw new UsageError('ts does not match the timestamp inside the cosignature', {details: [`ts: expected ${new Date(timestampMs).toISOString()}`]})
      }
      const keyId = Buffer.from(input.cosignature, 'base64').subarray(0, 4).toString('hex')
      deps.ledger.addCosignature(input.size, {witness: input.witness, key_id: keyId, cosignature: input.cosignature, ts: new Date(timestampMs).toISOString()})
      return {stored: true}
    },
  }
}
