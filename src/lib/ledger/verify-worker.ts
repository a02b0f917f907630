// One slice of a parallel chain verification: opens the ledger read-only in this thread and posts
// the slice's ChainReport back.
import {parentPort, workerData} from 'node:worker_threads'
import {openDatabase} from '../db/open.js'
import {verifyChain} from './verify.js'

const {path, from, to} = workerData as {path: string; from: number; to?: number}
const db = openDatabase(path, {readonly: true})
try {
  parentPort?.postMessage(verifyChain(db, {from, to}))
} finally {
  db.close()
}
