import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {openDatabase} from '../db/open.js'
import {loadNodePublicKey} from '../identity.js'
import {verifyCheckpointNote} from '../ledger/checkpoint.js'
import {verifyAgainstCheckpoint, verifyChain} from '../ledger/verify.js'
import type {OsmodaPaths} from '../paths.js'
import {fail, ok, warn, type DoctorCheck} from './check.js'

const RESTORE = 'keep the database as evidence; `osmoda verify-ledger --json` lists every break; restore the state from a backup (`osmoda backup restore`)'

/**
 * The whole hash chain of the ledger, read-only (agentd may be running), and the newest stored
 * checkpoint: its signature with the node key and its Merkle root against the rows.
 */
export function checkLedger(paths: OsmodaPaths): DoctorCheck {
  if (!existsSync(paths.ledgerDb)) return warn('ledger', `no ledger at ${paths.ledgerDb} yet`, 'agentd creates it on first start: `osmoda up`')
  let db
  try {
    db = openDatabase(paths.ledgerDb, {readonly: true})
  } catch (error) {
    return fail('ledger', `cannot open ${paths.ledgerDb}: ${(error as Error).message}`, RESTORE)
  }
  try {
    const report = verifyChain(db)
    if (!report.ok) {
      const first = report.breaks[0]
      return fail('ledger', `${report.bad_count} bad row(s) of ${report.size}; first bad seq ${report.first_bad_seq}${first ? ` (${first.reason}: ${first.detail})` : ''}`, RESTORE)
    }
    const chain = `${report.size} events, chain intact`
    const latest = db.prepare<[], {size: number; root_hash: string; note: string}>('SELECT size, root_hash, note FROM checkpoints ORDER BY size DESC LIMIT 1').get()
    if (!latest) return ok('ledger', `${chain}; no checkpoint signed yet`)
    if (!existsSync(join(paths.identityDir, 'ed25519.pub'))) return warn('ledger', `${chain}; checkpoint ${latest.size} not checked: no node public key`, 'run `osmoda init` to restore the identity files')
    const {identity, verifyKey} = loadNodePublicKey(paths)
    try {
      verifyCheckpointNote(latest.note, verifyKey, identity.ledger_origin)
    } catch (error) {
      return fail('ledger', `${chain}, but checkpoint ${latest.size}'s signature does not verify: ${(error as Error).message}`, RESTORE)
    }
    const match = verifyAgainstCheckpoint(db, {size: latest.size, root_hash: latest.root_hash})
    if (!match.ok) return fail('ledger', `${chain}, but the rows do not match checkpoint ${latest.size} (${match.reason}${match.detail ? `: ${match.detail}` : ''})`, RESTORE)
    return ok('ledger', `${chain}; matches signed checkpoint ${latest.size}`)
  } catch (error) {
    return fail('ledger', `cannot verify ${paths.ledgerDb}: ${(error as Error).message}`, RESTORE)
  } finally {
    db.close()
  }
}
