import {join} from 'node:path'
import {migrate, openDatabase, type Db} from '../../lib/db/open.js'
import type {OsmodaPaths} from '../../lib/paths.js'
import type {PolicyRule} from './policy.js'

const KEYD_MIGRATION = `
CREATE TABLE wallets (
  id TEXT PRIMARY KEY,
  chain TEXT NOT NULL,
  address TEXT NOT NULL,
  label TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL
);
CREATE TABLE operations (
  id TEXT PRIMARY KEY,
  wallet_id TEXT,
  action TEXT NOT NULL,
  decision TEXT NOT NULL,
  receipt TEXT NOT NULL
);
CREATE INDEX operations_wallet ON operations(wallet_id, id);
-- One row per (operation, windowed rule): state 'reserved' until the signature exists, then
-- 'committed'; a failed signing deletes its rows, an expired reservation stops counting.
CREATE TABLE spend (
  op_id TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  scope_key TEXT NOT NULL,
  value TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('reserved', 'committed')),
  expires_at_ms INTEGER NOT NULL,
  PRIMARY KEY (op_id, rule_id)
);
CREATE INDEX spend_window ON spend(rule_id, scope_key, at_ms);
`

/** keyd's database migrations, `<state>/keyd/keyd.db`. */
export const KEYD_MIGRATIONS: readonly string[] = [KEYD_MIGRATION]

/** Opens (creating and migrating) keyd's database. */
export function openKeydDb(paths: OsmodaPaths): Db {
  const db = openDatabase(join(paths.daemonStateDir('keyd'), 'keyd.db'))
  migrate(db, KEYD_MIGRATIONS)
  return db
}

/** A wallet row. */
export interface WalletRow {
  id: string
  chain: 'ethereum' | 'solana'
  address: string
  label: string
  created_at: string
}

/** A receipt of one wallet operation (SPEC §2.2 GET /wallet/receipts). */
export interface Receipt {
  id: string
  wallet_id: string | null
  action: string
  decision: 'allowed' | 'denied' | 'approval_required'
  rule_ids: string[]
  chain: string | null
  chain_id: number | null
  to: string | null
  asset: string | null
  value: string | null
  tx_hash: string | null
  digest: string | null
  ledger_seq: number | null
  created_at: string
}

/** SQL for wallets, receipts and spend; the check-and-reserve transaction lives in the service. */
export function createKeydStore(db: Db) {
  const usageRows = db.prepare<[string, string, number, number], {value: string}>(
    "SELECT value FROM spend WHERE rule_id = ? AND scope_key = ? AND at_ms > ? AND (state = 'committed' OR expires_at_ms > ?)",
  )
  return {
    db,
    insertWallet(row: WalletRow): void {
      db.prepare('INSERT INTO wallets (id, chain, address, label, created_at) VALUES (@id, @chain, @address, @label, @created_at)').run(row)
    },
    labelTaken(label: string): boolean {
      return db.prepare('SELECT 1 FROM wallets WHERE label = ?').get(label) !== undefined
    },
    getWallet(id: string): WalletRow | null {
      return (db.prepare('SELECT id, chain, address, label, created_at FROM wallets WHERE id = ?').get(id) as WalletRow | undefined) ?? null
    },
    listWallets(chain?: string): WalletRow[] {
      return chain
        ? (db.prepare('SELECT id, chain, address, label, created_at FROM wallets WHERE chain = ? ORDER BY id').all(chain) as WalletRow[])
        : (db.prepare('SELECT id, chain, address, label, created_at FROM wallets ORDER BY id').all() as WalletRow[])
    },
    deleteWallet(id: string): void {
      db.prepare('DELETE FROM wallets WHERE id = ?').run(id)
    },
    /** Committed and live reserved usage of a rule's window ending at `nowMs`. */
    usage(rule: PolicyRule, scopeKey: string, nowMs: number): {count: number; total: bigint} {
      if (!rule.window) return {count: 0, total: 0n}
      const rows = usageRows.all(rule.id, scopeKey, nowMs - rule.window.secs * 1000, nowMs)
      return {count: rows.length, total: rows.reduce((sum, r) => sum + BigInt(r.value), 0n)}
    },
    reserve(row: {op_id: string; rule_id: string; scope_key: string; value: string; at_ms: number; expires_at_ms: number}): void {
      db.prepare("INSERT INTO spend (op_id, rule_id, scope_key, value, at_ms, state, expires_at_ms) VALUES (@op_id, @rule_id, @scope_key, @value, @at_ms, 'reserved', @expires_at_ms)").run(row)
    },
    commitReservation(opId: string): void {
      db.prepare("UPDATE spend SET state = 'committed' WHERE op_id = ?").run(opId)
    },
    releaseReservation(opId: string): void {
      db.prepare("DELETE FROM spend WHERE op_id = ? AND state = 'reserved'").run(opId)
    },
    /** Deletes reservations whose TTL passed (the signing never finished); returns how many. */
    expireReservations(nowMs: number): number {
      return db.prepare("DELETE FROM spend WHERE state = 'reserved' AND expires_at_ms <= ?").run(nowMs).changes
    },
    insertReceipt(receipt: Receipt): void {
      db.prepare('INSERT INTO operations (id, wallet_id, action, decision, receipt) VALUES (?, ?, ?, ?, ?)').run(receipt.id, receipt.wallet_id, receipt.action, receipt.decision, JSON.stringify(receipt))
    },
    /** Newest first; `cursor` is the last id of the previous page. */
    listReceipts(filter: {wallet_id?: string; action?: string; limit: number; cursor?: string}): {receipts: Receipt[]; next_cursor: string | null} {
      const clauses = [
        ['wallet_id = ?', filter.wallet_id],
        ['action = ?', filter.action],
        ['id < ?', filter.cursor],
      ].filter(([, value]) => value !== undefined)
      const where = clauses.map(([sql]) => sql)
      const args = clauses.map(([, value]) => value)
      const sql = `SELECT id, receipt FROM operations ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`
      const rows = db.prepare<unknown[], {id: string; receipt: string}>(sql).all(...args, filter.limit + 1)
      const page = rows.slice(0, filter.limit)
      return {receipts: page.map((r) => JSON.parse(r.receipt) as Receipt), next_cursor: rows.length > filter.limit ? (page.at(-1)?.id ?? null) : null}
    },
  }
}

/** The keyd store. */
export type KeydStore = ReturnType<typeof createKeydStore>
